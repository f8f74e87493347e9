import assert from "node:assert/strict";
import { claudeProxy, createClaudeProxy } from "../../src/providers/claude/proxy.ts";
import {
  classifyClaudeFailure,
  parseClaudeQuotaHeaders,
} from "../../src/providers/claude/errors.ts";
import { buildToolNameMap, toolNameRewriter } from "../../src/providers/claude/tool_names.ts";
import { CLAUDE_IDENTITY_PROMPT } from "../../src/providers/claude/constants.ts";
import { parseEvent, SseFramer } from "../../src/sse.ts";
import type { AttemptContext } from "../../src/providers/proxy_types.ts";
import { testConfig } from "../support/test_config.ts";

const attempt: AttemptContext = {
  account: {
    id: "acct_C",
    provider: "claude",
    externalId: "uuid",
    label: "c",
    enabled: true,
    priority: 0,
    createdAt: 0,
    updatedAt: 0,
    meta: {},
  },
  credentials: { accessToken: "sk-ant-oat01-x" },
  upstream: testConfig().upstream,
};

async function build(
  body: Record<string, unknown>,
  headers: HeadersInit = {},
  endpoint = "/messages",
  adapter = claudeProxy,
) {
  const call = adapter.prepare({
    endpoint,
    headers: new Headers(headers),
    body,
    rawBody: JSON.stringify(body),
    model: "claude-sonnet-4-5",
    keyId: "key_1",
  });
  const req = await call.build(attempt);
  return { call, req, body: JSON.parse(req.body) };
}

const identity = { type: "text", text: CLAUDE_IDENTITY_PROMPT };

Deno.test("Claude request rewrite", async (t) => {
  await t.step("targets ?beta=true with the OAuth headers and no x-api-key", async () => {
    const { req } = await build({ messages: [] }, { "x-api-key": "kleis_secret" });
    assert.equal(req.url, `${attempt.upstream.anthropic}/v1/messages?beta=true`);
    assert.equal(req.headers.get("authorization"), "Bearer sk-ant-oat01-x");
    assert.equal(req.headers.get("x-api-key"), null);
    assert.equal(req.headers.get("anthropic-version"), "2023-06-01");
    assert.equal(req.headers.get("user-agent"), "claude-cli/2.1.87 (external, cli)");
    assert.equal(req.headers.get("x-app"), "cli");
    assert.equal(req.headers.get("anthropic-dangerous-direct-browser-access"), "true");
  });

  await t.step("merges the required betas first with the client's, deduplicated", async () => {
    const { req } = await build({ messages: [] }, {
      "anthropic-beta": "oauth-2025-04-20, context-1m-2025-08-07,context-1m-2025-08-07",
      "anthropic-version": "2024-01-01",
    });
    assert.equal(
      req.headers.get("anthropic-beta"),
      "claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14," +
        "fine-grained-tool-streaming-2025-05-14,context-1m-2025-08-07",
    );
    assert.equal(req.headers.get("anthropic-version"), "2024-01-01");
  });

  await t.step("puts the identity block first: missing, string and array system", async () => {
    assert.deepEqual((await build({ messages: [] })).body.system, [identity]);
    assert.deepEqual((await build({ system: "Mine", messages: [] })).body.system, [
      identity,
      { type: "text", text: "Mine" },
    ]);
    const arr = [{ type: "text", text: "A", cache_control: { type: "ephemeral" } }];
    assert.deepEqual((await build({ system: arr, messages: [] })).body.system, [identity, arr[0]]);
    assert.deepEqual((await build({ system: [identity, arr[0]], messages: [] })).body.system, [
      identity,
      arr[0],
    ], "not twice");
  });

  await t.step(
    "rewrites the classifier markers in system text, plus configured extras",
    async () => {
      const system = "Intro\nhttps://github.com/anomalyco/opencode\n" +
        "Here is some useful information about the environment you are running in:\nX-Agent";
      const { body } = await build(
        { system, messages: [] },
        {},
        "/messages",
        createClaudeProxy({
          extraRewrites: [{ find: "X-Agent", replace: "an agent" }],
        }),
      );
      assert.equal(
        body.system[1].text,
        "Intro\nHere is useful information about the environment you are running in:\nan agent",
      );
    },
  );

  await t.step("renames tools to ^mcp_[A-Z] in tools, tool_choice and history", async () => {
    const { body, call } = await build({
      tools: [
        { name: "read", input_schema: {} },
        { name: "Bash", input_schema: {} },
        { name: "mcp_custom", input_schema: {} },
        { type: "web_search_20250305", name: "web_search" },
      ],
      tool_choice: { type: "tool", name: "read" },
      messages: [{
        role: "assistant",
        content: [{ type: "tool_use", id: "t1", name: "old_tool", input: {} }],
      }],
    });
    assert.deepEqual(body.tools.map((t: { name: string }) => t.name), [
      "mcp_Read",
      "mcp_Bash",
      "mcp_Mcp_custom",
      "web_search",
    ]);
    assert.equal(body.tool_choice.name, "mcp_Read");
    assert.equal(body.messages[0].content[0].name, "mcp_Old_tool");
    assert.ok(call.rewriter);
  });

  await t.step("count_tokens goes to its own path and is never a stream", async () => {
    const { req, call } = await build({ messages: [], stream: true }, {}, "/messages/count_tokens");
    assert.equal(req.url, `${attempt.upstream.anthropic}/v1/messages/count_tokens?beta=true`);
    assert.equal(call.clientStream, false);
    assert.equal(call.shape, "count_tokens");
  });

  await t.step("the session for affinity is metadata.user_id", async () => {
    const { call } = await build({ messages: [], metadata: { user_id: "u-1" } });
    assert.equal(call.session, "u-1");
  });
});

Deno.test("tool names come back exactly as the client sent them", async (t) => {
  const map = buildToolNameMap({
    tools: [{ name: "read" }, { name: "Read" }, { name: "mcp_Read" }, { name: "mcp_x" }],
  });
  await t.step("colliding names are kept apart with a numeric suffix", () => {
    assert.deepEqual([...map.up.entries()], [
      ["read", "mcp_Read"],
      ["Read", "mcp_Read_2"],
      ["mcp_Read", "mcp_Mcp_Read"],
      ["mcp_x", "mcp_Mcp_x"],
    ]);
  });
  const rewriter = toolNameRewriter(map);
  await t.step("in JSON answers", () => {
    const body = {
      content: [
        { type: "text", text: "mcp_Read" },
        { type: "tool_use", name: "mcp_Read_2" },
        { type: "tool_use", name: "mcp_Mcp_x" },
      ],
    };
    const out = rewriter.json(structuredClone(body)) as typeof body;
    assert.deepEqual(out.content.map((b) => b.type === "tool_use" ? b.name : b.text), [
      "mcp_Read",
      "Read",
      "mcp_x",
    ]);
    assert.equal(rewriter.json({ content: [{ type: "text", text: "x" }] }), undefined);
  });
  await t.step("in stream events split one byte per chunk", () => {
    const start = {
      type: "content_block_start",
      index: 1,
      content_block: { type: "tool_use", id: "t", name: "mcp_Read", input: {} },
    };
    const text = `event: content_block_start\r\ndata: ${JSON.stringify(start)}\r\n\r\n` +
      `event: ping\ndata: {"type":"ping"}\n\n`;
    const framer = new SseFramer();
    let out = "";
    for (const byte of new TextEncoder().encode(text)) {
      for (const e of framer.push(Uint8Array.of(byte))) out += rewriter.event(e) ?? e.raw;
    }
    const events = out.split(/\n\n|\r\n\r\n/).filter(Boolean).map((e) => parseEvent(e + "\n\n"));
    assert.equal(JSON.parse(events[0]!.data!).content_block.name, "read");
    assert.equal(events[0]!.event, "content_block_start");
    assert.ok(out.endsWith(`event: ping\ndata: {"type":"ping"}\n\n`), "others untouched");
  });
});

Deno.test("classifyClaudeFailure()", async (t) => {
  const now = 1_800_000_000_000;
  await t.step("a rejected 429 cools the account until anthropic-ratelimit-unified-reset", () => {
    const v = classifyClaudeFailure(
      429,
      new Headers({
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": "1800003600",
      }),
      "",
      "m",
      now,
    );
    assert.deepEqual(v, {
      action: "cooldown",
      model: "*",
      until: 1_800_003_600_000,
      reason: "usage_limit_reached",
    });
  });
  await t.step("a plain 429 uses retry-after", () => {
    const v = classifyClaudeFailure(429, new Headers({ "retry-after": "20" }), "", "m", now);
    assert.equal(v.action === "cooldown" && v.until, now + 20_000);
  });
  await t.step("the classifier's 400 and a 403 policy block never rotate", () => {
    const body = JSON.stringify({
      type: "error",
      error: { type: "invalid_request_error", message: "You're out of extra usage." },
    });
    assert.deepEqual(classifyClaudeFailure(400, new Headers(), body, "m", now), {
      action: "pass",
    });
    assert.deepEqual(classifyClaudeFailure(403, new Headers(), "", "m", now), { action: "pass" });
    assert.deepEqual(classifyClaudeFailure(529, new Headers(), "", "m", now), { action: "pass" });
    assert.deepEqual(classifyClaudeFailure(401, new Headers(), "", "m", now), {
      action: "refresh",
    });
  });
});

Deno.test("parseClaudeQuotaHeaders() reads the unified 5h and 7d windows", () => {
  const q = parseClaudeQuotaHeaders(
    new Headers({
      "anthropic-ratelimit-unified-5h-utilization": "0.25",
      "anthropic-ratelimit-unified-5h-reset": "1800000000",
      "anthropic-ratelimit-unified-7d-utilization": "0.4",
    }),
    0,
  );
  assert.deepEqual(q?.windows, [
    { name: "5h", usedFraction: 0.25, resetsAt: 1_800_000_000_000 },
    { name: "7d", usedFraction: 0.4 },
  ]);
});

import assert from "node:assert/strict";
import { sseData, startHarness } from "./harness.ts";
import { CHUNKINGS } from "../fakes/mod.ts";
import { CODEX_PATH } from "../fakes/chatgpt.ts";

const claudeTools = [
  {
    name: "read",
    description: "r",
    input_schema: { type: "object", properties: { path: { type: "string" } } },
  },
  { name: "Bash", description: "b", input_schema: { type: "object", properties: {} } },
  { name: "mcp_custom", description: "c", input_schema: { type: "object", properties: {} } },
];

function claudeBody(stream: boolean, tools = claudeTools) {
  return {
    model: "anthropic/claude-sonnet-4-5",
    max_tokens: 100,
    stream,
    system: "You are OpenCode.\nhttps://github.com/anomalyco/opencode",
    tools,
    messages: [{ role: "user", content: "please use tool" }],
  };
}

Deno.test("Claude streams with tool calls come back with the client's tool names, in every chunking", async (t) => {
  await using h = await startHarness();
  await h.claudeAccount("a");
  h.fakes.anthropic.setUsage({
    input_tokens: 50,
    output_tokens: 9,
    cache_read_input_tokens: 20,
    cache_creation_input_tokens: 5,
  });
  for (const chunking of CHUNKINGS) {
    await t.step(`chunking ${chunking}`, async () => {
      h.fakes.anthropic.setChunking(chunking, 7);
      const res = await h.request("/anthropic/v1/messages", claudeBody(true));
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
      const events = await sseData(res) as { type: string; content_block?: { name?: string } }[];
      const toolStarts = events.filter((e) =>
        e.type === "content_block_start" && e.content_block?.name !== undefined
      );
      assert.deepEqual(toolStarts.map((e) => e.content_block!.name), ["read"]);
      assert.equal(events.at(-1)?.type, "message_stop");
      const sent = h.fakes.anthropic.lastRequest("/v1/messages")!.json as {
        tools: { name: string }[];
        system: { text: string }[];
      };
      assert.deepEqual(sent.tools.map((x) => x.name), ["mcp_Read", "mcp_Bash", "mcp_Mcp_custom"]);
      const usage = h.usage.at(-1)!;
      assert.deepEqual(
        [usage.inputTokens, usage.outputTokens, usage.cacheReadTokens, usage.cacheWriteTokens],
        [50, 9, 20, 5],
      );
      assert.equal(usage.status, 200);
      assert.equal(usage.model, "claude-sonnet-4-5");
    });
  }
  await t.step("JSON answers too", async () => {
    h.fakes.anthropic.setChunking("normal");
    const res = await h.request("/anthropic/v1/messages", claudeBody(false));
    const json = await res.json();
    const tool = json.content.find((b: { type: string }) => b.type === "tool_use");
    assert.equal(tool.name, "read");
    assert.equal(
      res.headers.get("content-length") === null ||
        Number(res.headers.get("content-length")) === JSON.stringify(json).length,
      true,
    );
  });
});

Deno.test("Codex streams pass through untouched and yield usage, whatever the chunking", async (t) => {
  await using h = await startHarness();
  await h.codexAccount("a");
  h.fakes.chatgpt.setUsage({ input_tokens: 100, cache_read_input_tokens: 40, output_tokens: 7 });
  h.fakes.chatgpt.setOmitContentType(true);
  for (const chunking of CHUNKINGS) {
    await t.step(`chunking ${chunking}`, async () => {
      h.fakes.chatgpt.setChunking(chunking, 3);
      const res = await h.request("/openai/v1/responses", {
        model: "gpt-5.5",
        input: "hi",
        stream: true,
      });
      assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
      const events = await sseData(res) as { type: string }[];
      assert.equal(events.at(-1)?.type, "response.completed");
      const u = h.usage.at(-1)!;
      assert.deepEqual([u.inputTokens, u.cacheReadTokens, u.outputTokens], [60, 40, 7]);
    });
  }
});

Deno.test("Copilot streaming chat asks for usage and records prompt tokens minus cached ones", async () => {
  await using h = await startHarness();
  await h.copilotAccount("a");
  h.fakes.copilot.setUsage({ input_tokens: 100, cache_read_input_tokens: 30, output_tokens: 5 });
  const res = await h.request("/copilot/v1/chat/completions", {
    model: "gpt-4.1",
    stream: true,
    messages: [{ role: "user", content: "hi" }],
  });
  const data = await sseData(res);
  assert.equal(data.at(-1), "[DONE]");
  const u = h.usage.at(-1)!;
  assert.deepEqual([u.inputTokens, u.cacheReadTokens, u.outputTokens], [70, 30, 5]);
  assert.equal(u.endpoint, "/copilot/v1/chat/completions");
  assert.ok(u.firstByteMs !== null && u.latencyMs >= u.firstByteMs);
});

Deno.test("a client that aborts mid-stream cancels the backend request within a second", async () => {
  await using h = await startHarness();
  await h.codexAccount("a");
  h.fakes.chatgpt.stallMidStream(10_000);
  const res = await h.request("/openai/v1/responses", {
    model: "gpt-5.5",
    input: "hi",
    stream: true,
  });
  const reader = res.body!.getReader();
  await reader.read();
  const started = performance.now();
  await reader.cancel();
  await h.fakes.chatgpt.waitForCancel(1000);
  assert.ok(performance.now() - started < 1000);
  assert.equal(h.usage.at(-1)?.status, 499);
});

Deno.test("a silent backend gets keepalives, then the stream ends with an error event", async (t) => {
  await using h = await startHarness({ timing: { keepaliveMs: 40, idleTimeoutMs: 400 } });
  await h.claudeAccount("a");
  await h.codexAccount("b");
  await t.step("Claude shape (re-framed stream)", async () => {
    h.fakes.anthropic.stallMidStream(5_000);
    const res = await h.request("/anthropic/v1/messages", claudeBody(true));
    const text = await res.text();
    assert.match(text, /^: keepalive$/m);
    assert.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
    await h.fakes.anthropic.waitForCancel(1000);
    assert.deepEqual([h.usage.at(-1)?.status, h.usage.at(-1)?.failure], [504, "backend"]);
  });
  await t.step("Responses shape (passed-through stream)", async () => {
    h.fakes.chatgpt.stallMidStream(5_000);
    const res = await h.request("/openai/v1/responses", {
      model: "gpt-5.5",
      input: "x",
      stream: true,
    });
    const events = await sseData(res) as { type: string; code?: string }[];
    assert.deepEqual(events.at(-1), {
      type: "error",
      code: "stream_timeout",
      message: "The backend sent nothing for 400 ms.",
      param: null,
    });
    await h.fakes.chatgpt.waitForCancel(1000);
  });
});

Deno.test("a backend that resets mid-stream ends the client stream with an error", async () => {
  await using h = await startHarness();
  await h.codexAccount("a");
  h.fakes.chatgpt.resetMidStream();
  const res = await h.request("/openai/v1/responses", {
    model: "gpt-5.5",
    input: "x",
    stream: true,
  });
  const events = await sseData(res) as { type: string }[];
  assert.equal(events.at(-1)?.type, "error");
  assert.deepEqual([h.usage.at(-1)?.status, h.usage.at(-1)?.failure], [502, "backend"]);
});

Deno.test("header allowlist: client cookies, forwarding headers and made-up headers never reach the backend; set-cookie never reaches the client", async () => {
  await using h = await startHarness();
  const a = await h.claudeAccount("a");
  await h.codexAccount("b");
  const sneaky = {
    cookie: "session=abc",
    "x-forwarded-for": "10.0.0.1",
    "x-forwarded-host": "evil",
    forwarded: "for=1.2.3.4",
    "x-real-ip": "1.2.3.4",
    "cf-connecting-ip": "1.2.3.4",
    "x-made-up": "nope",
    authorization: "Bearer kleis_clientsecret",
    "x-api-key": "kleis_clientsecret",
  };
  const res = await h.request("/anthropic/v1/messages", claudeBody(false), sneaky);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  assert.equal(res.headers.get("set-cookie"), null);
  assert.equal(res.headers.get("x-kleis-account"), a.account.id);
  assert.ok(res.headers.get("x-kleis-request-id"));
  assert.ok(
    res.headers.get("anthropic-ratelimit-unified-5h-utilization"),
    "rate-limit headers pass",
  );
  const codex = await h.request("/openai/v1/responses", { model: "gpt-5.5", input: "x" }, sneaky);
  await codex.body?.cancel();
  for (
    const req of [
      h.fakes.anthropic.lastRequest("/v1/messages")!,
      h.fakes.chatgpt.lastRequest(CODEX_PATH)!,
    ]
  ) {
    for (
      const name of [
        "cookie",
        "x-forwarded-for",
        "x-forwarded-host",
        "forwarded",
        "x-real-ip",
        "cf-connecting-ip",
        "x-made-up",
        "x-api-key",
      ]
    ) {
      assert.equal(req.headers[name], undefined, `${name} reached ${req.path}`);
    }
    assert.doesNotMatch(req.headers["authorization"] ?? "", /kleis_/);
  }
});

Deno.test("quota headroom from backend headers is stored per account, at most once a minute", async () => {
  await using h = await startHarness();
  const a = await h.codexAccount("a");
  const res = await h.request("/openai/v1/responses", { model: "gpt-5.5", input: "x" });
  await res.body?.cancel();
  const { getAccountQuota } = await import("../../src/proxy/quota_headroom.ts");
  const q = await getAccountQuota(h.deps.kv, a.account.id);
  assert.deepEqual(q?.windows.map((w) => [w.name, w.usedFraction]), [["5h", 0.12], ["7d", 0.3]]);
  h.fakes.chatgpt.setQuota({ primaryUsedPercent: 50 });
  await (await h.request("/openai/v1/responses", { model: "gpt-5.5", input: "x" })).body?.cancel();
  assert.equal((await getAccountQuota(h.deps.kv, a.account.id))?.windows[0]?.usedFraction, 0.12);
  h.deps.clock.advance(61_000);
  await (await h.request("/openai/v1/responses", { model: "gpt-5.5", input: "x" })).body?.cancel();
  assert.equal((await getAccountQuota(h.deps.kv, a.account.id))?.windows[0]?.usedFraction, 0.5);
});

Deno.test("a backend that resets while Kleis collects a stream into JSON is a 502, not a client abort", async () => {
  await using h = await startHarness();
  await h.codexAccount("a");
  h.fakes.chatgpt.resetMidStream();
  const res = await h.request("/openai/v1/responses", { model: "gpt-5.5", input: "x" });
  assert.equal(res.status, 502);
  assert.equal((await res.json()).error.code, "backend_unreachable");
  assert.deepEqual([h.usage.at(-1)?.status, h.usage.at(-1)?.failure], [502, "backend"]);
});

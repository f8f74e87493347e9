import assert from "node:assert/strict";
import { copilotProxy } from "../../src/providers/copilot/proxy.ts";
import { classifyCopilotFailure, nextMonthlyReset } from "../../src/providers/copilot/errors.ts";
import { copilotHasImage, copilotInitiator } from "../../src/providers/copilot/request_rewrite.ts";
import { parseWaitFromText } from "../../src/providers/common/reset_hints.ts";
import type { AttemptContext } from "../../src/providers/proxy_types.ts";
import { testConfig } from "../support/test_config.ts";

function attempt(apiBase?: string): AttemptContext {
  return {
    account: {
      id: "acct_P",
      provider: "copilot",
      externalId: "42",
      label: "p",
      enabled: true,
      priority: 0,
      createdAt: 0,
      updatedAt: 0,
      meta: {},
    },
    credentials: apiBase ? { accessToken: "tok", apiBase } : { accessToken: "tok" },
    upstream: testConfig().upstream,
  };
}

async function build(
  endpoint: string,
  body: Record<string, unknown>,
  headers: HeadersInit = {},
  base?: string,
) {
  const call = copilotProxy.prepare({
    endpoint,
    headers: new Headers(headers),
    body,
    rawBody: JSON.stringify(body),
    model: String(body.model ?? "gpt-4.1"),
    keyId: "k",
  });
  const req = await call.build(attempt(base));
  return { call, req, body: JSON.parse(req.body) };
}

Deno.test("X-Initiator is user only for a user turn", async (t) => {
  await t.step("chat completions and responses: last message / item role", () => {
    assert.equal(copilotInitiator("/chat/completions", { messages: [{ role: "user" }] }), "user");
    assert.equal(
      copilotInitiator("/chat/completions", { messages: [{ role: "user" }, { role: "tool" }] }),
      "agent",
    );
    assert.equal(copilotInitiator("/responses", { input: "hi" }), "user");
    assert.equal(copilotInitiator("/responses", { input: [{ role: "user" }] }), "user");
    assert.equal(
      copilotInitiator("/responses", { input: [{ type: "function_call_output" }] }),
      "agent",
    );
  });
  await t.step("messages: user with at least one part that is not a tool_result", () => {
    const m = (content: unknown) => ({ messages: [{ role: "user", content }] });
    assert.equal(copilotInitiator("/messages", m("hi")), "user");
    assert.equal(copilotInitiator("/messages", m([{ type: "tool_result" }])), "agent");
    assert.equal(
      copilotInitiator("/messages", m([{ type: "tool_result" }, { type: "text" }])),
      "user",
    );
    assert.equal(
      copilotInitiator("/messages", { messages: [{ role: "assistant", content: "x" }] }),
      "agent",
    );
  });
});

Deno.test("Copilot-Vision-Request follows images, including inside tool results", () => {
  assert.equal(
    copilotHasImage("/chat/completions", {
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }],
    }),
    true,
  );
  assert.equal(
    copilotHasImage("/responses", { input: [{ content: [{ type: "input_image" }] }] }),
    true,
  );
  assert.equal(
    copilotHasImage("/messages", {
      messages: [{
        role: "user",
        content: [{ type: "tool_result", content: [{ type: "image", source: {} }] }],
      }],
    }),
    true,
  );
  assert.equal(copilotHasImage("/messages", { messages: [{ role: "user", content: "x" }] }), false);
});

Deno.test("Copilot requests", async (t) => {
  await t.step(
    "chat: intent, initiator, include_usage for streams, client user agent",
    async () => {
      const { req, body } = await build("/chat/completions", {
        model: "gpt-4.1",
        stream: true,
        stream_options: { foo: 1 },
        messages: [{ role: "user", content: "hi" }],
      }, { "user-agent": "opencode/1.0", cookie: "a=b", "x-forwarded-for": "1.2.3.4" });
      assert.equal(req.url, `${testConfig().upstream.copilot}/chat/completions`);
      assert.equal(req.headers.get("openai-intent"), "conversation-edits");
      assert.equal(req.headers.get("x-initiator"), "user");
      assert.equal(req.headers.get("user-agent"), "opencode/1.0");
      assert.equal(req.headers.get("cookie"), null);
      assert.equal(req.headers.get("x-forwarded-for"), null);
      assert.equal(req.headers.get("copilot-vision-request"), null);
      assert.deepEqual(body.stream_options, { foo: 1, include_usage: true });
    },
  );
  await t.step("GPT-5.x loses temperature; other models keep it", async () => {
    assert.equal(
      "temperature" in (await build("/responses", {
        model: "gpt-5.2-codex",
        temperature: 1,
        input: "x",
      })).body,
      false,
    );
    assert.equal(
      (await build("/chat/completions", { model: "gpt-4.1", temperature: 1 })).body
        .temperature,
      1,
    );
  });
  await t.step(
    "messages go to {base}/v1/messages with anthropic-version and merged betas",
    async () => {
      const { req } = await build(
        "/messages",
        { model: "claude-sonnet-4.5", messages: [] },
        { "anthropic-beta": "foo,interleaved-thinking-2025-05-14" },
        "https://copilot-api.example.com/",
      );
      assert.equal(req.url, "https://copilot-api.example.com/v1/messages");
      assert.equal(req.headers.get("anthropic-version"), "2023-06-01");
      assert.equal(req.headers.get("anthropic-beta"), "interleaved-thinking-2025-05-14,foo");
      assert.equal(copilotProxy.errorStyle("/messages"), "anthropic");
      assert.equal(copilotProxy.errorStyle("/responses"), "openai");
    },
  );
});

Deno.test("classifyCopilotFailure() cools one model: 402 until the monthly reset, 429 for the named wait", () => {
  const now = Date.UTC(2026, 10, 22, 12);
  assert.deepEqual(
    classifyCopilotFailure(
      402,
      new Headers(),
      '{"error":{"message":"You have no quota","code":"quota_exceeded"}}',
      "claude-sonnet-4.5",
      now,
    ),
    {
      action: "cooldown",
      model: "claude-sonnet-4.5",
      until: Date.UTC(2026, 11, 1),
      reason: "quota_exceeded",
    },
  );
  const v = classifyCopilotFailure(
    429,
    new Headers(),
    '{"error":{"message":"Rate limited. Please try again in 58 hours."}}',
    "gpt-5.2",
    now,
  );
  assert.equal(v.action === "cooldown" && v.until, now + 58 * 3_600_000);
  assert.equal(v.action === "cooldown" && v.model, "gpt-5.2");
  assert.equal(nextMonthlyReset(Date.UTC(2026, 11, 31)), Date.UTC(2027, 0, 1));
  assert.deepEqual(classifyCopilotFailure(400, new Headers(), "", "m", now), { action: "pass" });
});

Deno.test("parseWaitFromText() reads hours, minutes and combinations", () => {
  assert.equal(parseWaitFromText("Please wait 5 minutes before retrying", 0), 300_000);
  assert.equal(parseWaitFromText("try again in 1 hour and 30 minutes.", 0), 5_400_000);
  assert.equal(parseWaitFromText("try again in 20s", 0), 20_000);
  assert.equal(parseWaitFromText("no hint here, 5 minutes ago", 0), undefined);
});

Deno.test("a Copilot body that needs no change goes out exactly as the client sent it", async () => {
  const raw = '{"model":"gpt-4.1",  "messages":[{"role":"user","content":"hi"}]}';
  const call = copilotProxy.prepare({
    endpoint: "/chat/completions",
    headers: new Headers(),
    body: JSON.parse(raw),
    rawBody: raw,
    model: "gpt-4.1",
    keyId: "k",
  });
  assert.equal((await call.build(attempt())).body, raw);
});

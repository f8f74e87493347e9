import assert from "node:assert/strict";
import { codexProxy, collectResponsesAnswer } from "../../src/providers/codex/proxy.ts";
import { classifyCodexFailure, parseCodexQuotaHeaders } from "../../src/providers/codex/errors.ts";
import { CODEX_DEFAULT_INSTRUCTIONS } from "../../src/providers/codex/constants.ts";
import { sha256Hex } from "../../src/crypto.ts";
import { parseEvent } from "../../src/sse.ts";
import type { AttemptContext } from "../../src/providers/proxy_types.ts";
import type { AccountRecord } from "../../src/model/accounts.ts";
import { testConfig } from "../support/test_config.ts";

const account = {
  id: "acct_A",
  provider: "codex",
  externalId: "chatgpt-acct-1",
  label: "a",
  enabled: true,
  priority: 0,
  createdAt: 0,
  updatedAt: 0,
  meta: {},
} satisfies AccountRecord;
const attempt: AttemptContext = {
  account,
  credentials: { accessToken: "access-1" },
  upstream: testConfig().upstream,
};

async function build(body: Record<string, unknown>, headers: HeadersInit = {}) {
  const call = codexProxy.prepare({
    endpoint: "/responses",
    headers: new Headers(headers),
    body,
    rawBody: JSON.stringify(body),
    model: "gpt-5.5",
    keyId: "key_1",
  });
  const req = await call.build(attempt);
  return { call, req, body: JSON.parse(req.body) };
}

Deno.test("Codex request rewrite", async (t) => {
  await t.step(
    "forces store:false and stream:true, drops refused parameters, adds the include",
    async () => {
      const { body, call } = await build({
        model: "openai/gpt-5.5",
        input: "hi",
        stream: false,
        store: true,
        temperature: 0.2,
        top_p: 1,
        max_output_tokens: 10,
        max_completion_tokens: 10,
        include: ["file_search_call.results"],
      });
      assert.equal(body.store, false);
      assert.equal(body.stream, true);
      assert.equal(body.model, "gpt-5.5");
      for (const p of ["temperature", "top_p", "max_output_tokens", "max_completion_tokens"]) {
        assert.equal(p in body, false, p);
      }
      assert.deepEqual(body.include, ["file_search_call.results", "reasoning.encrypted_content"]);
      assert.deepEqual(body.input, [{
        type: "message",
        role: "user",
        content: [{ type: "input_text", text: "hi" }],
      }]);
      assert.equal(call.clientStream, false);
      assert.ok(call.collect, "a non-streaming client gets the collected final response");
    },
  );

  await t.step("keeps the client's instructions", async () => {
    const { body } = await build({ instructions: "Be brief.", input: [] });
    assert.equal(body.instructions, "Be brief.");
  });

  await t.step("moves a leading system/developer item into instructions", async () => {
    const { body } = await build({
      input: [
        { role: "developer", content: [{ type: "input_text", text: "Dev rules" }] },
        { role: "user", content: "hello" },
      ],
    });
    assert.equal(body.instructions, "Dev rules");
    assert.deepEqual(body.input, [{ role: "user", content: "hello" }]);
  });

  await t.step("falls back to Kleis's default instructions", async () => {
    const { body } = await build({ input: [{ role: "user", content: "x" }] });
    assert.equal(body.instructions, CODEX_DEFAULT_INSTRUCTIONS);
  });

  await t.step("sets the Codex headers and the account id", async () => {
    const { req } = await build({ input: [] });
    assert.equal(req.url, `${attempt.upstream.chatgpt}/backend-api/codex/responses`);
    assert.equal(req.headers.get("authorization"), "Bearer access-1");
    assert.equal(req.headers.get("chatgpt-account-id"), "chatgpt-acct-1");
    assert.equal(req.headers.get("originator"), "opencode");
    assert.equal(req.headers.get("user-agent"), "opencode");
    assert.equal(req.headers.get("accept"), "text/event-stream");
    assert.equal(req.headers.get("content-type"), "application/json");
  });

  await t.step(
    "derives prompt_cache_key = SHA-256(keyId:accountId:session), also as session-id",
    async () => {
      const expected = await sha256Hex("key_1:acct_A:sess-9");
      const fromBody = await build({ input: [], prompt_cache_key: "sess-9" });
      assert.equal(fromBody.body.prompt_cache_key, expected);
      assert.equal(fromBody.req.headers.get("session-id"), expected);
      assert.equal(fromBody.call.session, "sess-9");
      const fromHeader = await build({ input: [] }, { session_id: "sess-9" });
      assert.equal(fromHeader.body.prompt_cache_key, expected);
      const none = await build({ input: [] });
      assert.equal("prompt_cache_key" in none.body, false);
      assert.equal(none.req.headers.get("session-id"), null);
    },
  );
});

Deno.test("collectResponsesAnswer() returns the final response object, or an OpenAI error when it failed", () => {
  const ev = (data: unknown) => parseEvent(`data: ${JSON.stringify(data)}\n\n`);
  assert.equal(collectResponsesAnswer(ev({ type: "response.created", response: {} })), undefined);
  assert.deepEqual(
    collectResponsesAnswer(ev({ type: "response.completed", response: { id: "r1" } })),
    { status: 200, body: { id: "r1" } },
  );
  const failed = collectResponsesAnswer(
    ev({ type: "response.failed", response: { error: { code: "server_error", message: "boom" } } }),
  );
  assert.equal(failed?.status, 502);
  assert.deepEqual(failed?.body, {
    error: { message: "boom", type: "server_error", code: "server_error" },
  });
});

Deno.test("classifyCodexFailure()", async (t) => {
  const now = 1_800_000_000_000;
  await t.step("usage_limit_reached cools the whole account until resets_at", () => {
    const v = classifyCodexFailure(
      429,
      new Headers(),
      JSON.stringify({ error: { type: "usage_limit_reached", resets_at: 1_800_000_600 } }),
      "gpt-5.5",
      now,
    );
    assert.deepEqual(v, {
      action: "cooldown",
      model: "*",
      until: 1_800_000_600_000,
      reason: "usage_limit_reached",
    });
  });
  await t.step("resets_in_seconds and retry-after are understood", () => {
    const a = classifyCodexFailure(
      429,
      new Headers(),
      JSON.stringify({ error: { type: "usage_limit_reached", resets_in_seconds: 90 } }),
      "m",
      now,
    );
    assert.equal(a.action === "cooldown" && a.until, now + 90_000);
    const b = classifyCodexFailure(429, new Headers({ "retry-after": "30" }), "{}", "m", now);
    assert.equal(b.action === "cooldown" && b.until, now + 30_000);
  });
  await t.step("401 asks for a refresh; 400 and 5xx pass through", () => {
    assert.deepEqual(classifyCodexFailure(401, new Headers(), "", "m", now), { action: "refresh" });
    assert.deepEqual(classifyCodexFailure(400, new Headers(), "", "m", now), { action: "pass" });
    assert.deepEqual(classifyCodexFailure(503, new Headers(), "", "m", now), { action: "pass" });
  });
});

Deno.test("parseCodexQuotaHeaders() reads the x-codex-* windows", () => {
  const q = parseCodexQuotaHeaders(
    new Headers({
      "x-codex-primary-used-percent": "12",
      "x-codex-primary-window-minutes": "300",
      "x-codex-primary-reset-at": "1800000000",
      "x-codex-secondary-used-percent": "30",
      "x-codex-secondary-window-minutes": "10080",
    }),
    0,
  );
  assert.deepEqual(q?.windows, [
    { name: "5h", usedFraction: 0.12, resetsAt: 1_800_000_000_000 },
    { name: "7d", usedFraction: 0.3 },
  ]);
  assert.equal(q?.headers["x-codex-primary-used-percent"], "12");
  assert.equal(parseCodexQuotaHeaders(new Headers(), 0), undefined);
});

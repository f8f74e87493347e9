/**
 * Transient backend failures (500, 502, 503, 504, Claude's 529) before any
 * byte reached the client: retried on the same account after a short pause,
 * then the next account; never a 400; every try counted in the usage event
 * and logged.
 */
import assert from "node:assert/strict";
import { startHarness } from "./harness.ts";
import { bearer } from "../fakes/server.ts";
import { CODEX_PATH } from "../fakes/chatgpt.ts";
import { claudeOverloaded, codexOverloaded } from "../fakes/failures.ts";
import { getCooldowns } from "../../src/accounts/cooldowns.ts";
import {
  DEFAULT_RETRY_POLICY,
  isTransientStatus,
  retryDelayMs,
} from "../../src/proxy/retry_policy.ts";

const responsesBody = { model: "gpt-5.5", input: "hello", stream: false };
const messagesBody = {
  model: "claude-sonnet-4-5",
  max_tokens: 10,
  messages: [{ role: "user", content: "hi" }],
};
/** Retries without real waiting: the pauses are 0-1 ms. */
const fast = { engine: { retry: { baseDelayMs: 1, maxDelayMs: 1, random: () => 0 } } };

Deno.test("retry policy: which statuses are transient, jittered exponential pauses", () => {
  for (const status of [500, 502, 503, 504, 529]) assert.ok(isTransientStatus(status), `${status}`);
  for (const status of [400, 401, 402, 403, 404, 408, 413, 429, 501]) {
    assert.equal(isTransientStatus(status), false, `${status}`);
  }
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 200, maxDelayMs: 500 };
  assert.equal(retryDelayMs({ ...policy, random: () => 0 }, 1), 100);
  assert.equal(retryDelayMs({ ...policy, random: () => 0.999999 }, 1), 200);
  assert.equal(retryDelayMs({ ...policy, random: () => 0 }, 2), 200);
  assert.equal(retryDelayMs({ ...policy, random: () => 0.999999 }, 5), 500, "capped");
  assert.equal(DEFAULT_RETRY_POLICY.triesPerAccount, 2);
});

Deno.test("a 503 once, then 200: the client gets the 200 from the same account", async () => {
  await using h = await startHarness(fast);
  const a = await h.codexAccount("a");
  await h.codexAccount("b");
  h.fakes.chatgpt.failNext(codexOverloaded());
  const res = await h.request("/openai/v1/responses", responsesBody);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-kleis-account"), a.account.id);
  assert.equal((await res.json()).status, "completed");
  const seen = h.fakes.chatgpt.requestsTo(CODEX_PATH).map(bearer);
  assert.deepEqual(seen, [a.accessToken, a.accessToken], "two tries on A, B untouched");
  assert.deepEqual(await getCooldowns(h.deps.kv, a.account.id), [], "no cooldown");
  assert.deepEqual(h.usage.map((u) => [u.status, u.accountId, u.attempts]), [
    [200, a.account.id, 2],
  ]);
  const logged = h.deps.logLines.filter((l) => l.includes("retrying on the same account"));
  assert.equal(logged.length, 1, h.deps.logLines.join("\n"));
  assert.match(logged[0]!, /"status":503/);
  assert.match(logged[0]!, new RegExp(a.account.id));
});

Deno.test("a 503 on every try moves to the next account (no cooldown on the first)", async () => {
  await using h = await startHarness(fast);
  const a = await h.codexAccount("a");
  const b = await h.codexAccount("b");
  h.fakes.chatgpt.failWhen((req) => bearer(req) === a.accessToken ? codexOverloaded() : undefined);
  const res = await h.request("/openai/v1/responses", responsesBody);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-kleis-account"), b.account.id);
  await res.body?.cancel();
  const seen = h.fakes.chatgpt.requestsTo(CODEX_PATH).map(bearer);
  assert.deepEqual(seen, [a.accessToken, a.accessToken, b.accessToken]);
  assert.deepEqual(await getCooldowns(h.deps.kv, a.account.id), []);
  assert.deepEqual(h.usage.map((u) => [u.status, u.accountId, u.attempts]), [
    [200, b.account.id, 3],
  ]);
  assert.equal(
    h.deps.logLines.filter((l) => l.includes("moving to the next account")).length,
    1,
  );
});

Deno.test("every account failing transiently: the backend's last answer goes to the client", async () => {
  await using h = await startHarness(fast);
  const a = await h.claudeAccount("a");
  const b = await h.claudeAccount("b");
  h.fakes.anthropic.failWhen(() => claudeOverloaded());
  const res = await h.request("/anthropic/v1/messages", messagesBody);
  assert.equal(res.status, 529);
  assert.equal(res.headers.get("x-kleis-account"), b.account.id);
  assert.deepEqual(await res.json(), claudeOverloaded().body);
  const seen = h.fakes.anthropic.requestsTo("/v1/messages").map(bearer);
  assert.deepEqual(seen, [a.accessToken, a.accessToken, b.accessToken, b.accessToken]);
  assert.deepEqual(h.usage.map((u) => [u.status, u.failure, u.attempts]), [[529, "backend", 4]]);
});

Deno.test("500, 502 and 504 are retried too; a 400 is returned at once", async (t) => {
  await using h = await startHarness(fast);
  const a = await h.codexAccount("a");
  await h.codexAccount("b");
  for (const status of [500, 502, 504]) {
    await t.step(`${status} once, then 200`, async () => {
      h.fakes.chatgpt.clearRequests();
      h.fakes.chatgpt.failNext({ status, body: "upstream trouble" });
      const res = await h.request("/openai/v1/responses", responsesBody);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-kleis-account"), a.account.id);
      await res.body?.cancel();
      assert.equal(h.fakes.chatgpt.requestsTo(CODEX_PATH).length, 2);
    });
  }
  await t.step("400: one try, passed on, no other account", async () => {
    h.fakes.chatgpt.clearRequests();
    h.usage.length = 0;
    const bad = { status: 400, body: { detail: "Unsupported parameter: foo" } };
    h.fakes.chatgpt.failNext({ ...bad, count: 3 });
    const res = await h.request("/openai/v1/responses", responsesBody);
    assert.equal(res.status, 400);
    // The backend's message, in the route's (OpenAI) error shape.
    assert.equal((await res.json()).error.message, "Unsupported parameter: foo");
    assert.equal(res.headers.get("x-kleis-account"), a.account.id);
    assert.deepEqual(h.fakes.chatgpt.requestsTo(CODEX_PATH).map(bearer), [a.accessToken]);
    assert.deepEqual(h.usage.map((u) => [u.status, u.attempts]), [[400, 1]]);
    h.fakes.chatgpt.resetControls();
  });
});

Deno.test("a stream that breaks after its first byte is never retried", async () => {
  await using h = await startHarness(fast);
  await h.claudeAccount("a");
  await h.claudeAccount("b");
  h.fakes.anthropic.resetMidStream();
  const res = await h.request("/anthropic/v1/messages", { ...messagesBody, stream: true });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /event: error/);
  assert.equal(h.fakes.anthropic.requestsTo("/v1/messages").length, 1);
  assert.deepEqual(h.usage.map((u) => [u.status, u.attempts]), [[502, 1]]);
});

Deno.test("a client that leaves during the pause gets no further try", async () => {
  await using h = await startHarness({
    engine: { retry: { baseDelayMs: 5_000, maxDelayMs: 5_000, random: () => 0 } },
  });
  await h.codexAccount("a");
  h.fakes.chatgpt.failNext(codexOverloaded());
  const controller = new AbortController();
  const pending = h.request("/openai/v1/responses", responsesBody, {}, controller.signal);
  // The first try has failed once the fake has seen it; then the client leaves.
  const deadline = Date.now() + 2_000;
  while (h.fakes.chatgpt.requestsTo(CODEX_PATH).length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 20));
  controller.abort();
  const started = Date.now();
  const res = await pending;
  await res.body?.cancel();
  assert.ok(Date.now() - started < 2_000, "the pause ended with the client");
  assert.equal(h.fakes.chatgpt.requestsTo(CODEX_PATH).length, 1);
});

import assert from "node:assert/strict";
import { startHarness, testKey } from "./harness.ts";
import { bearer } from "../fakes/server.ts";
import { getCooldowns } from "../../src/accounts/cooldowns.ts";
import { CODEX_PATH } from "../fakes/chatgpt.ts";

const responsesBody = { model: "gpt-5.5", input: "hello", stream: false };

Deno.test("a 429 usage_limit_reached moves the request to the next account until the reset", async () => {
  await using h = await startHarness();
  const a = await h.codexAccount("a");
  const b = await h.codexAccount("b");
  const resetSec = Math.floor(h.deps.now() / 1000) + 600;
  h.fakes.chatgpt.failWhen((req) =>
    bearer(req) === a.accessToken
      ? {
        status: 429,
        body: {
          error: {
            type: "usage_limit_reached",
            message: "The usage limit has been reached",
            plan_type: "plus",
            resets_at: resetSec,
          },
        },
      }
      : undefined
  );

  const first = await h.request("/openai/v1/responses", responsesBody);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("x-kleis-account"), b.account.id);
  const json = await first.json();
  assert.equal(json.object, "response");
  assert.equal(json.status, "completed");
  const seen = h.fakes.chatgpt.requestsTo(CODEX_PATH).map(bearer);
  assert.deepEqual(seen, [a.accessToken, b.accessToken], "A tried first, then B");

  const cooldowns = await getCooldowns(h.deps.kv, a.account.id, h.deps.now());
  assert.deepEqual(cooldowns, [{
    model: "*",
    until: resetSec * 1000,
    reason: "usage_limit_reached",
  }]);

  h.fakes.chatgpt.clearRequests();
  const second = await h.request("/openai/v1/responses", responsesBody);
  assert.equal(second.headers.get("x-kleis-account"), b.account.id);
  await second.body?.cancel();
  assert.deepEqual(
    h.fakes.chatgpt.requestsTo(CODEX_PATH).map(bearer),
    [b.accessToken],
    "A skipped",
  );

  h.fakes.chatgpt.resetControls();
  h.fakes.chatgpt.clearRequests();
  h.deps.clock.set(resetSec * 1000 + 1);
  const third = await h.request("/openai/v1/responses", responsesBody);
  assert.equal(third.status, 200);
  assert.equal(third.headers.get("x-kleis-account"), a.account.id, "A used again after its reset");
  await third.body?.cancel();
});

Deno.test("all accounts exhausted → 503 with the earliest reset in Retry-After", async () => {
  await using h = await startHarness();
  const a = await h.codexAccount("a");
  await h.codexAccount("b");
  const now = Math.floor(h.deps.now() / 1000);
  h.fakes.chatgpt.failWhen((req) => ({
    status: 429,
    body: {
      error: {
        type: "usage_limit_reached",
        resets_at: bearer(req) === a.accessToken ? now + 900 : now + 300,
      },
    },
  }));
  const res = await h.request("/openai/v1/responses", responsesBody);
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "300");
  const body = await res.json();
  assert.equal(body.error.code, "accounts_cooling_down");
  assert.match(body.error.message, /Codex/);

  h.fakes.chatgpt.clearRequests();
  h.deps.clock.advance(100_000);
  const again = await h.request("/openai/v1/responses", responsesBody);
  assert.equal(again.status, 503);
  assert.equal(again.headers.get("retry-after"), "200");
  await again.body?.cancel();
  assert.equal(h.fakes.chatgpt.requestsTo(CODEX_PATH).length, 0, "no backend call while all cool");
  assert.deepEqual(h.usage.map((u) => [u.status, u.failure]), [[503, "proxy"], [503, "proxy"]]);
});

Deno.test("a backend 401 triggers one refresh and one retry on the same account", async () => {
  await using h = await startHarness();
  const a = await h.codexAccount("a");
  h.fakes.world.expire(a.accessToken);
  // Tokens saved within the last 5 s count as fresh for a forced refresh.
  h.deps.clock.advance(10_000);
  const res = await h.request("/openai/v1/responses", responsesBody);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-kleis-account"), a.account.id);
  await res.body?.cancel();
  const seen = h.fakes.chatgpt.requestsTo(CODEX_PATH).map(bearer);
  assert.equal(seen.length, 2);
  assert.equal(seen[0], a.accessToken);
  assert.notEqual(seen[1], a.accessToken, "the retry used the refreshed token");
  assert.equal(h.fakes.openaiAuth.requests.length > 0, true);
});

Deno.test("a 401 that survives the refresh cools the account and fails over", async () => {
  await using h = await startHarness();
  const a = await h.codexAccount("a");
  const b = await h.codexAccount("b");
  h.fakes.chatgpt.failWhen((req) =>
    bearer(req) !== b.accessToken
      ? { status: 401, body: { error: { message: "bad token", code: "invalid_token" } } }
      : undefined
  );
  const res = await h.request("/openai/v1/responses", responsesBody);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-kleis-account"), b.account.id);
  await res.body?.cancel();
  const cd = await getCooldowns(h.deps.kv, a.account.id);
  assert.equal(cd[0]?.reason, "unauthorized");
});

Deno.test("a 400 from the Claude classifier is passed on and never rotates accounts", async () => {
  await using h = await startHarness();
  const a = await h.claudeAccount("a");
  await h.claudeAccount("b");
  const classifier = {
    type: "error",
    error: { type: "invalid_request_error", message: "You're out of extra usage." },
  };
  h.fakes.anthropic.failNext({ status: 400, body: classifier });
  const res = await h.request("/anthropic/v1/messages", {
    model: "claude-sonnet-4-5",
    max_tokens: 10,
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), classifier);
  assert.equal(res.headers.get("x-kleis-account"), a.account.id);
  assert.equal(h.fakes.anthropic.requestsTo("/v1/messages").length, 1);
  assert.deepEqual(await getCooldowns(h.deps.kv, a.account.id), []);
  assert.equal(h.usage[0]?.failure, "backend");
});

Deno.test("Copilot 402 cools only that model on the account", async () => {
  await using h = await startHarness();
  const a = await h.copilotAccount("a");
  h.fakes.copilot.failWhen((req) =>
    (req.json as { model?: string })?.model === "claude-sonnet-4.5"
      ? { status: 402, body: { error: { message: "You have no quota", code: "quota_exceeded" } } }
      : undefined
  );
  const premium = await h.request("/copilot/v1/chat/completions", {
    model: "claude-sonnet-4.5",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(premium.status, 503);
  await premium.body?.cancel();
  const free = await h.request("/copilot/v1/chat/completions", {
    model: "copilot/gpt-4.1",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(free.status, 200);
  assert.equal(free.headers.get("x-kleis-account"), a.account.id);
  await free.body?.cancel();
  const cd = await getCooldowns(h.deps.kv, a.account.id);
  assert.deepEqual(cd.map((c) => [c.model, c.reason]), [["claude-sonnet-4.5", "quota_exceeded"]]);
});

Deno.test("account selection: pinned key is strict, primary first, session affinity sticks", async (t) => {
  await using h = await startHarness();
  const a = await h.codexAccount("a");
  const b = await h.codexAccount("b");
  await t.step("primary (the first account) serves by default", async () => {
    const res = await h.request("/openai/v1/responses", responsesBody);
    assert.equal(res.headers.get("x-kleis-account"), a.account.id);
    await res.body?.cancel();
  });
  await t.step("a key pinned to B uses B, and only B", async () => {
    h.key = testKey({ accounts: { codex: b.account.id } });
    const res = await h.request("/openai/v1/responses", responsesBody);
    assert.equal(res.headers.get("x-kleis-account"), b.account.id);
    await res.body?.cancel();
    h.fakes.chatgpt.failWhen((req) =>
      bearer(req) === b.accessToken
        ? { status: 429, body: { error: { type: "usage_limit_reached", resets_in_seconds: 60 } } }
        : undefined
    );
    const cooling = await h.request("/openai/v1/responses", responsesBody);
    assert.equal(cooling.status, 503, "no failover to an account the key is not pinned to");
    await cooling.body?.cancel();
    h.fakes.chatgpt.resetControls();
    h.key = testKey({ accounts: { codex: "acct_gone" } });
    const gone = await h.request("/openai/v1/responses", responsesBody);
    assert.equal(gone.status, 503);
    assert.equal((await gone.json()).error.code, "pinned_account_unavailable");
    h.key = testKey();
    h.deps.clock.advance(61_000);
  });
  await t.step("a session served by B after a failover stays on B while B is healthy", async () => {
    h.fakes.chatgpt.failNext({
      status: 429,
      body: { error: { type: "usage_limit_reached", resets_in_seconds: 30 } },
    });
    const body = { ...responsesBody, prompt_cache_key: "session-1" };
    const moved = await h.request("/openai/v1/responses", body);
    assert.equal(moved.headers.get("x-kleis-account"), b.account.id);
    await moved.body?.cancel();
    h.deps.clock.advance(31_000); // A is healthy again
    const again = await h.request("/openai/v1/responses", body);
    assert.equal(again.headers.get("x-kleis-account"), b.account.id, "affinity keeps B");
    await again.body?.cancel();
    const other = await h.request("/openai/v1/responses", { ...body, prompt_cache_key: "s-2" });
    assert.equal(other.headers.get("x-kleis-account"), a.account.id, "a new session starts on A");
    await other.body?.cancel();
  });
});

Deno.test("Kleis's own refusals: no account, bad JSON, missing model, other provider's prefix, scopes", async () => {
  await using h = await startHarness();
  const none = await h.request("/anthropic/v1/messages", { model: "claude-x", messages: [] });
  assert.equal(none.status, 503);
  assert.deepEqual(await none.json(), {
    type: "error",
    error: {
      type: "overloaded_error",
      message: "No enabled Claude account is connected to Kleis.",
    },
  });
  const bad = await h.request("/openai/v1/responses", "{not json");
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, "invalid_json");
  const array = await h.request("/openai/v1/responses", '[{"model":"gpt-5.5"}]');
  assert.equal(array.status, 400);
  assert.match((await array.json()).error.message, /must be a JSON object/);
  const noModel = await h.request("/openai/v1/responses", { input: "x" });
  assert.equal(noModel.status, 400);
  assert.equal((await noModel.json()).error.code, "missing_model");
  const wrong = await h.request("/openai/v1/responses", { model: "anthropic/claude-x" });
  assert.equal(wrong.status, 400);
  assert.equal((await wrong.json()).error.code, "wrong_provider");
  h.key = testKey({ providers: ["claude"] });
  const provider = await h.request("/openai/v1/responses", { model: "gpt-5.5" });
  assert.equal(provider.status, 403);
  await provider.body?.cancel();
  h.key = testKey({ models: ["gpt-5.4*"] });
  const model = await h.request("/openai/v1/responses", { model: "codex/gpt-5.5" });
  assert.equal(model.status, 403);
  assert.equal(model.headers.get("x-kleis-request-id") !== null, true);
  assert.match((await model.json()).error.message, /gpt-5\.5/);
  assert.equal(h.usage.length, 7, "every refused request is recorded once");
  assert.ok(h.usage.every((u) => u.failure === "proxy"));
});

import assert from "node:assert/strict";
import { accountsEnv, seedAccount } from "./helpers.ts";
import { getUpstreamCredentials } from "../../src/accounts/credentials.ts";
import { AccountUnavailableError } from "../../src/accounts/errors.ts";
import { refreshTokens } from "../../src/accounts/refresh.ts";
import { getAccount, loadTokens, saveLogin } from "../../src/accounts/repository.ts";
import { listAudit } from "../../src/audit.ts";
import { keys } from "../../src/kv/keys.ts";
import type { Env } from "./helpers.ts";

/**
 * A Codex account whose access token expires in `expiresInSec`, stored
 * directly: an import would refresh it at once (tested in import_test.ts).
 */
function codexAccount(env: Env, expiresInSec: number, accountId = "acct-r1") {
  return seedAccount(env, "codex", { expiresInSec, accountId });
}

function claudeAccount(env: Env, expiresInSec: number) {
  return seedAccount(env, "claude", { expiresInSec });
}

Deno.test("getUpstreamCredentials(): 20 concurrent callers of an expiring account cause one refresh", async (t) => {
  for (const provider of ["codex", "claude"] as const) {
    await t.step(provider, async () => {
      await using env = await accountsEnv();
      const made = provider === "codex"
        ? await codexAccount(env, 120)
        : await claudeAccount(env, 120);
      const fake = provider === "codex" ? env.fakes.openaiAuth : env.fakes.claudePlatform;
      const account = (await getAccount(env.deps.kv, made.id))!;
      const results = await Promise.all(
        Array.from({ length: 20 }, () => getUpstreamCredentials(env.deps, account)),
      );
      assert.equal(fake.refreshCount, 1);
      const fresh = results[0]!.accessToken;
      assert.notEqual(fresh, made.tokens.access_token);
      assert.ok(results.every((r) => r.accessToken === fresh));
      const stored = await loadTokens(env.deps, made.id);
      assert.equal(stored!.tokens.accessToken, fresh);
      assert.equal(stored!.generation, 2);
      // The rotated refresh token was stored: further refreshes work at the fake.
      env.deps.clock.advance(10_000);
      await refreshTokens(env.deps, made.id, { force: true });
      env.deps.clock.advance(10_000);
      await refreshTokens(env.deps, made.id, { force: true });
      assert.equal(fake.refreshCount, 3);
      assert.equal((await getAccount(env.deps.kv, made.id))!.needsLogin, undefined);
      const audit = await listAudit(env.deps.kv, { limit: 50 });
      assert.ok(
        audit.entries.some((e) => e.action === "account.refreshed" && e.target === made.id),
      );
    });
  }
});

Deno.test("getUpstreamCredentials(): fresh tokens are used as stored, without a refresh", async () => {
  await using env = await accountsEnv();
  const made = await codexAccount(env, 3600);
  const account = (await getAccount(env.deps.kv, made.id))!;
  const creds = await getUpstreamCredentials(env.deps, account);
  assert.equal(creds.accessToken, made.tokens.access_token);
  assert.equal(creds.apiBase, undefined);
  assert.equal(env.fakes.openaiAuth.refreshCount, 0);
});

Deno.test("forceRefresh after a backend 401 refreshes once for many callers", async () => {
  await using env = await accountsEnv();
  const made = await codexAccount(env, 3600);
  const account = (await getAccount(env.deps.kv, made.id))!;
  env.deps.clock.advance(60_000);
  const first = await Promise.all(
    Array.from(
      { length: 5 },
      () => getUpstreamCredentials(env.deps, account, { forceRefresh: true }),
    ),
  );
  // Callers that saw the same 401 a moment later reuse the refresh that just happened.
  const later = await getUpstreamCredentials(env.deps, account, { forceRefresh: true });
  assert.equal(env.fakes.openaiAuth.refreshCount, 1);
  assert.ok(first.every((c) => c.accessToken === later.accessToken));
  assert.notEqual(later.accessToken, made.tokens.access_token);
});

Deno.test("a permanent refresh failure marks needs_login once and is not retried", async () => {
  await using env = await accountsEnv();
  const made = await codexAccount(env, 60);
  // Someone else used the refresh token: the fake now answers refresh_token_reused.
  env.fakes.world.codex.useRefresh(made.tokens.refresh_token);
  const account = (await getAccount(env.deps.kv, made.id))!;
  const error = await getUpstreamCredentials(env.deps, account).catch((e) => e);
  assert.ok(error instanceof AccountUnavailableError);
  assert.equal(error.reason, "needs_login");
  assert.ok(!error.message.includes(made.tokens.refresh_token));
  assert.equal(env.fakes.openaiAuth.refreshCount, 1);
  const after = (await getAccount(env.deps.kv, made.id))!;
  assert.equal(after.needsLogin, true);
  assert.match(after.lastRefreshError!, /refresh_token_reused/);
  const again = await getUpstreamCredentials(env.deps, after).catch((e) => e);
  assert.equal(again.reason, "needs_login");
  assert.equal(env.fakes.openaiAuth.refreshCount, 1);
  const view = await env.admin("GET", `/accounts/${made.id}`);
  assert.equal(view.json.account.status, "needs_login");
  const audit = await listAudit(env.deps.kv, { limit: 50 });
  assert.ok(
    audit.entries.some((e) => e.action === "account.refresh_failed" && e.target === made.id),
  );
  // A new login of the same identity clears needs_login.
  const fresh = env.fakes.world.issueCodexTokens({ accountId: "acct-r1" });
  const relogin = await env.admin("POST", "/accounts/codex/import", {
    accessToken: fresh.access_token,
    refreshToken: fresh.refresh_token,
  });
  assert.equal(relogin.json.account.id, made.id);
  assert.equal(relogin.json.account.status, "active");
});

Deno.test("transient refresh failures are retried with backoff; the old token stays usable", async (t) => {
  await using env = await accountsEnv();
  await t.step("two 503s then success", async () => {
    const made = await codexAccount(env, 60, "acct-t1");
    env.fakes.openaiAuth.failNextRefresh({ status: 503, body: { error: "unavailable" } });
    env.fakes.openaiAuth.failNextRefresh({ status: 502, body: "bad gateway" });
    const creds = await getUpstreamCredentials(env.deps, (await getAccount(env.deps.kv, made.id))!);
    assert.notEqual(creds.accessToken, made.tokens.access_token);
    assert.equal(env.fakes.openaiAuth.refreshCount, 3);
  });
  await t.step(
    "all attempts fail: the unexpired old token is returned, the error recorded",
    async () => {
      const made = await codexAccount(env, 60, "acct-t2");
      const before = env.fakes.openaiAuth.refreshCount;
      for (let i = 0; i < 4; i++) env.fakes.openaiAuth.failNextRefresh({ status: 500, body: {} });
      const creds = await getUpstreamCredentials(
        env.deps,
        (await getAccount(env.deps.kv, made.id))!,
      );
      assert.equal(creds.accessToken, made.tokens.access_token);
      assert.equal(env.fakes.openaiAuth.refreshCount - before, 4);
      const record = (await getAccount(env.deps.kv, made.id))!;
      assert.equal(record.needsLogin, undefined);
      assert.match(record.lastRefreshError!, /HTTP 500/);
      assert.equal((await env.deps.kv.get(keys.refreshLease(made.id))).value, null);
    },
  );
  await t.step("all attempts fail on an expired token: refresh_failed", async () => {
    const made = await codexAccount(env, 60, "acct-t3");
    env.deps.clock.advance(120_000);
    for (let i = 0; i < 4; i++) env.fakes.openaiAuth.failNextRefresh({ status: 503, body: {} });
    const error = await getUpstreamCredentials(env.deps, (await getAccount(env.deps.kv, made.id))!)
      .catch((e) => e);
    assert.ok(error instanceof AccountUnavailableError);
    assert.equal(error.reason, "refresh_failed");
  });
});

Deno.test("a lease held by another instance makes callers wait for its tokens; a dead one expires", async (t) => {
  await using env = await accountsEnv({ tuning: { leaseMs: 10_000 } });
  const made = await codexAccount(env, 60);
  const account = (await getAccount(env.deps.kv, made.id))!;

  await t.step("admin refresh answers 409 while the lease is live", async () => {
    await env.deps.kv.set(keys.refreshLease(made.id), {
      owner: "other",
      deadline: env.deps.now() + 10_000,
    });
    const res = await env.admin("POST", `/accounts/${made.id}/refresh`);
    assert.equal(res.status, 409);
    assert.equal(res.json.error.code, "refresh_in_progress");
  });

  await t.step("a waiting caller uses the tokens the lease holder commits", async () => {
    const waiting = getUpstreamCredentials(env.deps, account);
    await new Promise((r) => setTimeout(r, 30));
    // The "other instance" commits new tokens (generation + 1) and drops its lease.
    const newer = env.fakes.world.issueCodexTokens({ accountId: "acct-r1" });
    await saveLogin(env.deps, "codex", {
      tokens: {
        accessToken: newer.access_token,
        refreshToken: newer.refresh_token,
        expiresAt: env.deps.now() + 864000_000,
      },
      identity: { externalId: "acct-r1", label: "x" },
    }, { source: "test" });
    await env.deps.kv.delete(keys.refreshLease(made.id));
    const creds = await waiting;
    assert.equal(creds.accessToken, newer.access_token);
    assert.equal(env.fakes.openaiAuth.refreshCount, 0);
  });

  await t.step("a lease whose deadline passed (dead process) is taken over", async () => {
    env.deps.clock.advance(864000_000 - 60_000);
    await env.deps.kv.set(keys.refreshLease(made.id), {
      owner: "dead",
      deadline: env.deps.now() - 1,
    });
    const creds = await getUpstreamCredentials(env.deps, (await getAccount(env.deps.kv, made.id))!);
    assert.equal(env.fakes.openaiAuth.refreshCount, 1);
    assert.ok(creds.accessToken);
    assert.equal((await env.deps.kv.get(keys.refreshLease(made.id))).value, null);
  });
});

Deno.test("Copilot: gho_ used directly; ghu_ exchanged and cached; a revoked token needs a login", async (t) => {
  await using env = await accountsEnv();
  await t.step("gho_", async () => {
    const token = env.fakes.world.issueCopilotToken({ userId: 77 });
    const res = await env.admin("POST", "/accounts/copilot/import", { accessToken: token });
    const account = (await getAccount(env.deps.kv, res.json.account.id))!;
    const creds = await getUpstreamCredentials(env.deps, account);
    assert.deepEqual(creds, { accessToken: token, apiBase: env.fakes.copilot.url });
    env.fakes.world.revoke(token);
    env.deps.clock.advance(10_000); // past the forced-refresh debounce after the import
    const error = await getUpstreamCredentials(env.deps, account, { forceRefresh: true })
      .catch((e) => e);
    assert.equal(error.reason, "needs_login");
    assert.equal((await getAccount(env.deps.kv, account.id))!.needsLogin, true);
  });
  await t.step("ghu_", async () => {
    const token = env.fakes.world.issueCopilotToken({ userId: 78, kind: "ghu" });
    const res = await env.admin("POST", "/accounts/copilot/import", { accessToken: token });
    const account = (await getAccount(env.deps.kv, res.json.account.id))!;
    const exchanges = env.fakes.githubApi.exchangeCount;
    const a = await getUpstreamCredentials(env.deps, account);
    const b = await getUpstreamCredentials(env.deps, account);
    assert.equal(env.fakes.githubApi.exchangeCount, exchanges, "cached from the import");
    assert.equal(a.accessToken, b.accessToken);
    assert.notEqual(a.accessToken, token);
    assert.equal(a.apiBase, env.fakes.copilot.url);
    env.deps.clock.advance(26 * 60_000); // within 5 minutes of the 30-minute expiry
    const c = await getUpstreamCredentials(env.deps, account);
    assert.equal(env.fakes.githubApi.exchangeCount, exchanges + 1);
    assert.notEqual(c.accessToken, a.accessToken);
  });
});

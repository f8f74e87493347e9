/**
 * GET /admin/credentials/status, GET /admin/keys/usage, and the refresh an
 * import of Codex or Claude credentials runs at once. Exact fields.
 */
import assert from "node:assert/strict";
import { accountsEnv, fixture, seedAccount } from "../accounts/helpers.ts";
import { getAccount, loadTokens } from "../../src/accounts/repository.ts";
import { listAudit } from "../../src/audit.ts";
import { keys } from "../../src/kv/keys.ts";
import { expectedCounters, ingestEvents, syntheticEvents } from "../usage/helpers.ts";
import type { UsageEvent } from "../../src/usage/types.ts";
import { createApp } from "../../src/app.ts";

const MINUTE = 60_000;

Deno.test("an import of Codex or Claude credentials refreshes exactly once, at once", async (t) => {
  for (
    const [provider, file] of [["codex", "codex-auth.json"], [
      "claude",
      "claude-credentials.json",
    ]] as const
  ) {
    await t.step(`${provider}: one refresh at the fake, the new tokens stored`, async () => {
      await using env = await accountsEnv();
      const fake = provider === "codex" ? env.fakes.openaiAuth : env.fakes.claudePlatform;
      const res = await env.admin("POST", `/accounts/${provider}/import`, await fixture(file));
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(fake.refreshCount, 1);
      const id = res.json.account.id;
      const stored = await loadTokens(env.deps, id);
      assert.equal(stored!.generation, 2);
      assert.notEqual(
        stored!.tokens.refreshToken,
        provider === "codex" ? "rt_fixture_codex_0001" : "sk-ant-ort01-fixture-refresh",
      );
      assert.equal(res.json.account.status, "active");
      assert.equal(res.json.account.lastRefreshAt, env.deps.now());
      const audit = await listAudit(env.deps.kv, { limit: 20 });
      assert.ok(
        audit.entries.some((e) =>
          e.action === "account.refreshed" && e.actor === "import" && e.target === id
        ),
      );
      // Nothing else refreshes on its own: the other token endpoint saw nothing.
      const other = provider === "codex" ? env.fakes.claudePlatform : env.fakes.openaiAuth;
      assert.equal(other.refreshCount, 0);
    });
  }

  await t.step("a spent refresh token is found at import: needs_login and a warning", async () => {
    await using env = await accountsEnv();
    const tokens = env.fakes.world.issueCodexTokens({ accountId: "acct-stale" });
    // The CLI the file came from refreshed since: its refresh token is spent.
    env.fakes.world.codex.useRefresh(tokens.refresh_token);
    const res = await env.admin("POST", "/accounts/codex/import", {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
    });
    assert.equal(res.status, 200);
    assert.equal(env.fakes.openaiAuth.refreshCount, 1);
    assert.equal(res.json.account.status, "needs_login");
    assert.match(res.json.account.lastRefreshError, /refresh_token_reused/);
    assert.match(res.json.warnings.join(" "), /imported refresh token no longer works/);
    assert.ok(!JSON.stringify(res.json).includes(tokens.refresh_token));
  });

  await t.step("a transient failure keeps the account and says it will be retried", async () => {
    await using env = await accountsEnv();
    for (let i = 0; i < 4; i++) {
      env.fakes.claudePlatform.failNextRefresh({ status: 503, body: { error: "overloaded" } });
    }
    const tokens = env.fakes.world.issueClaudeTokens({ expiresInSec: 3600 });
    const res = await env.admin("POST", "/accounts/claude/import", {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: env.deps.now() + 3600_000,
    });
    assert.equal(res.status, 200);
    assert.equal(env.fakes.claudePlatform.refreshCount, 4);
    assert.equal(res.json.account.status, "active");
    assert.match(
      res.json.warnings.join(" "),
      /could not be refreshed now; the refresh sweep tries again/,
    );
    const account = await getAccount(env.deps.kv, res.json.account.id);
    assert.equal(account!.needsLogin, undefined);
  });

  await t.step("no refresh without a refresh token, and none for Copilot", async () => {
    await using env = await accountsEnv();
    const codex = env.fakes.world.issueCodexTokens({ accountId: "acct-access-only" });
    const a = await env.admin("POST", "/accounts/codex/import", {
      accessToken: codex.access_token,
    });
    assert.equal(a.status, 200);
    const b = await env.admin(
      "POST",
      "/accounts/copilot/import",
      await fixture("copilot-hosts.json"),
    );
    assert.equal(b.status, 200);
    assert.equal(env.fakes.openaiAuth.refreshCount, 0);
    assert.equal(env.fakes.claudePlatform.refreshCount, 0);
  });
});

Deno.test("GET /admin/credentials/status: every account, exact fields, no token", async () => {
  await using env = await accountsEnv();
  const now = env.deps.now();
  const fresh = await seedAccount(env, "codex", {
    expiresInSec: 3 * 3600,
    accountId: "acct-fresh",
  });
  const expiring = await seedAccount(env, "claude", { expiresInSec: 20 * 60 });
  const expired = await seedAccount(env, "codex", { expiresInSec: -120, accountId: "acct-old" });
  const copilot = await env.admin(
    "POST",
    "/accounts/copilot/import",
    await fixture("copilot-hosts.json"),
  );
  const unreadable = await seedAccount(env, "claude", { expiresInSec: 3600 });
  // Sealed with another encryption key: present but of no use to this instance.
  const envelope = (await env.deps.kv.get<{ sealed: string }>(keys.accountTokens(unreadable.id)))
    .value!;
  await env.deps.kv.set(keys.accountTokens(unreadable.id), {
    ...envelope,
    sealed: envelope.sealed.slice(0, -4) + "AAAA",
  });
  // A refused refresh leaves needs_login and the error.
  env.fakes.world.codex.useRefresh(expired.tokens.refresh_token);
  await env.admin("POST", `/accounts/${expired.id}/refresh`);

  const res = await env.admin("GET", "/credentials/status");
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(res.json).sort(), ["accounts", "checkedAt"]);
  assert.equal(res.json.checkedAt, now);
  const byId = new Map(res.json.accounts.map((a: { id: string }) => [a.id, a]));
  assert.equal(res.json.accounts.length, 5);
  const label = (provider: string, externalId: string) => `${provider} ${externalId}`;
  assert.deepEqual(byId.get(fresh.id), {
    id: fresh.id,
    label: label("codex", "acct-fresh"),
    provider: "codex",
    status: "active",
    expiresAt: now + 3 * 3600_000,
    minutesUntilExpiry: 180,
    needsRefreshSoon: false,
    isExpired: false,
    hasCredentials: true,
    // A login (here: stored directly) counts as a refresh.
    lastRefreshAt: now,
    lastRefreshError: null,
  });
  assert.deepEqual(byId.get(expiring.id), {
    id: expiring.id,
    label: (await getAccount(env.deps.kv, expiring.id))!.label,
    provider: "claude",
    status: "expiring",
    expiresAt: now + 20 * MINUTE,
    minutesUntilExpiry: 20,
    needsRefreshSoon: true,
    isExpired: false,
    hasCredentials: true,
    lastRefreshAt: now,
    lastRefreshError: null,
  });
  const expiredView = byId.get(expired.id) as Record<string, unknown>;
  assert.equal(expiredView.status, "needs_login");
  assert.equal(expiredView.expiresAt, now - 120_000);
  assert.equal(expiredView.minutesUntilExpiry, -2);
  assert.equal(expiredView.isExpired, true);
  assert.equal(expiredView.needsRefreshSoon, true);
  assert.equal(expiredView.hasCredentials, true);
  assert.equal(expiredView.lastRefreshAt, now);
  assert.match(String(expiredView.lastRefreshError), /refresh_token_reused/);
  assert.deepEqual(byId.get(copilot.json.account.id), {
    id: copilot.json.account.id,
    label: copilot.json.account.label,
    provider: "copilot",
    status: "active",
    expiresAt: null,
    minutesUntilExpiry: null,
    needsRefreshSoon: false,
    isExpired: false,
    hasCredentials: true,
    lastRefreshAt: now,
    lastRefreshError: null,
  });
  assert.equal((byId.get(unreadable.id) as Record<string, unknown>).hasCredentials, false);
  assert.ok(!/eyJ|rt_|sk-ant-|gho_/.test(JSON.stringify(res.json)));

  const unauthorised = await createApp(env.deps).request("/admin/credentials/status");
  assert.equal(unauthorised.status, 401);
});

Deno.test("GET /admin/keys/usage: per-key totals and per-provider rows in the window", async (t) => {
  await using env = await accountsEnv();
  const created = [];
  for (const label of ["Alpha", "Beta"]) {
    const res = await env.admin("POST", "/keys", { label });
    assert.equal(res.status, 201);
    created.push(res.json.key.id as string);
  }
  const [alpha, beta] = created as [string, string];
  const now = env.deps.now();
  // Alpha: codex and claude traffic; Beta: claude only; a deleted key; one refusal without a key.
  const base = syntheticEvents(60, now, 50 * MINUTE);
  const events: UsageEvent[] = base.map((e, i) => ({
    ...e,
    keyId: i % 3 === 2 ? "key_gone" : e.provider === "claude" && i % 3 === 1 ? beta : alpha,
  }));
  const old: UsageEvent[] = syntheticEvents(10, now - 3 * 3600_000, 30 * MINUTE, "old").map((
    e,
  ) => ({
    ...e,
    keyId: alpha,
  }));
  const noKey: UsageEvent = { ...base[0]!, id: "nokey", keyId: "" };
  await ingestEvents(env.deps, "b1", [...events, ...old, noKey]);

  const pick = (key: string, provider?: string) =>
    events.filter((e) => e.keyId === key && (provider === undefined || e.provider === provider));

  await t.step("one hour: exact envelope and rows, most requests first", async () => {
    const res = await env.admin("GET", "/keys/usage?windowMs=3600000");
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const until = Math.floor(now / MINUTE) * MINUTE + MINUTE;
    assert.deepEqual(Object.keys(res.json).sort(), ["now", "since", "until", "usage", "windowMs"]);
    assert.equal(res.json.windowMs, 3600_000);
    assert.equal(res.json.until, until);
    assert.equal(res.json.since, until - 3600_000);
    assert.equal(res.json.now, now);
    const lastAt = (key: string) =>
      Math.max(...[...events, ...old].filter((e) => e.keyId === key).map((e) => e.at));
    const row = (key: string, label: string | null) => {
      const providers = [...new Set(pick(key).map((e) => e.provider!))].sort();
      return {
        apiKeyId: key,
        label,
        ...expectedCounters(pick(key)),
        lastRequestAt: lastAt(key),
        providers: providers.map((p) => ({ provider: p, ...expectedCounters(pick(key, p)) })),
      };
    };
    const expected = [row(alpha, "Alpha"), row(beta, "Beta"), row("key_gone", null)]
      .sort((a, b) => b.requests - a.requests || (a.apiKeyId < b.apiKeyId ? -1 : 1));
    assert.deepEqual(res.json.usage, expected);
  });

  await t.step("a longer window takes in the older traffic", async () => {
    const res = await env.admin("GET", "/keys/usage?windowMs=86400000");
    const row = res.json.usage.find((r: { apiKeyId: string }) => r.apiKeyId === alpha);
    assert.equal(row.requests, pick(alpha).length + old.length);
  });

  await t.step("default window is 24 h; a bad window is a 400 naming windowMs", async () => {
    const res = await env.admin("GET", "/keys/usage");
    assert.equal(res.json.windowMs, 86_400_000);
    for (const bad of ["1", "abc", "99999999999999", "1.5"]) {
      const r = await env.admin("GET", `/keys/usage?windowMs=${bad}`);
      assert.equal(r.status, 400, bad);
      assert.equal(r.json.error.code, "invalid_window");
    }
  });

  await t.step("/keys/usage is not read as a key id", async () => {
    const res = await env.admin("GET", "/keys/usage");
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(res.json.usage));
    const key = await env.admin("GET", `/keys/${alpha}`);
    assert.equal(key.status, 200);
  });
});

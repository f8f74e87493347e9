import assert from "node:assert/strict";
import { accountsEnv, fixture, seedAccount } from "./helpers.ts";
import { getPrimaryAccountId, listAccounts } from "../../src/accounts/repository.ts";
import { keys } from "../../src/kv/keys.ts";
import { listAudit } from "../../src/audit.ts";

const VIEW_FIELDS = [
  "id",
  "provider",
  "label",
  "externalId",
  "email",
  "plan",
  "enabled",
  "isPrimary",
  "priority",
  "status",
  "expiresAt",
  "minutesUntilExpiry",
  "needsRefreshSoon",
  "lastRefreshAt",
  "lastRefreshError",
  "coolingDownUntil",
  "quota",
  "lastUsedAt",
  "createdAt",
];

Deno.test("admin accounts: list view fields, never tokens; primary rules through PATCH and DELETE", async (t) => {
  await using env = await accountsEnv();
  const ids: string[] = [];
  // Stored directly: an import would refresh the tokens, and these must stay expiring.
  for (const accountId of ["acct-a", "acct-b", "acct-c"]) {
    ids.push((await seedAccount(env, "codex", { accountId, expiresInSec: 20 * 60 })).id);
  }
  const [a, b, c] = ids as [string, string, string];

  await t.step("GET /accounts: documented fields only, no token anywhere", async () => {
    const res = await env.admin("GET", "/accounts");
    assert.equal(res.status, 200);
    assert.equal(res.json.accounts.length, 3);
    for (const view of res.json.accounts) {
      for (const k of Object.keys(view)) {
        assert.ok(VIEW_FIELDS.includes(k), `unexpected field ${k}`);
      }
      assert.equal(view.status, "expiring");
      assert.equal(view.needsRefreshSoon, true);
      assert.equal(view.minutesUntilExpiry, 20);
    }
    assert.deepEqual(res.json.accounts.map((v: { isPrimary: boolean }) => v.isPrimary), [
      true,
      false,
      false,
    ]);
    const text = JSON.stringify(res.json);
    assert.ok(!/eyJ|rt_/.test(text));
  });
  await t.step("disabling the primary promotes the next by priority", async () => {
    const res = await env.admin("PATCH", `/accounts/${a}`, { enabled: false });
    assert.equal(res.json.account.status, "disabled");
    assert.equal(await getPrimaryAccountId(env.deps.kv, "codex"), b);
  });
  await t.step("priority changes order; POST primary moves the primary", async () => {
    await env.admin("PATCH", `/accounts/${c}`, { priority: -5, label: "First" });
    const list = await listAccounts(env.deps.kv, "codex");
    assert.equal(list[0]!.id, c);
    assert.equal(list[0]!.label, "First");
    const res = await env.admin("POST", `/accounts/${c}/primary`);
    assert.equal(res.json.account.isPrimary, true);
    assert.equal(await getPrimaryAccountId(env.deps.kv, "codex"), c);
    const disabled = await env.admin("POST", `/accounts/${a}/primary`);
    assert.equal(disabled.status, 409);
  });
  await t.step(
    "deleting the primary promotes the next enabled; the last enabled leaves none",
    async () => {
      assert.equal((await env.admin("DELETE", `/accounts/${c}`)).status, 200);
      assert.equal(await getPrimaryAccountId(env.deps.kv, "codex"), b);
      assert.equal((await env.deps.kv.get(keys.accountTokens(c))).value, null);
      await env.admin("PATCH", `/accounts/${b}`, { enabled: false });
      assert.equal(await getPrimaryAccountId(env.deps.kv, "codex"), undefined);
      await env.admin("PATCH", `/accounts/${a}`, { enabled: true });
      assert.equal(await getPrimaryAccountId(env.deps.kv, "codex"), a);
    },
  );
  await t.step(
    "bad input is a 400 naming the field and changes nothing; unknown ids are 404",
    async () => {
      const bad = await env.admin("PATCH", `/accounts/${a}`, { priority: "high" });
      assert.equal(bad.status, 400);
      assert.match(bad.json.error.message, /priority/);
      const extra = await env.admin("PATCH", `/accounts/${a}`, { tokens: "x" });
      assert.equal(extra.status, 400);
      assert.equal((await env.admin("GET", "/accounts/nope")).status, 404);
      assert.equal((await env.admin("DELETE", "/accounts/nope")).status, 404);
    },
  );
  await t.step("audit has added, updated, primary and removed entries", async () => {
    const actions = new Set(
      (await listAudit(env.deps.kv, { limit: 100 })).entries.map((e) => e.action),
    );
    for (const a of ["account.added", "account.updated", "account.primary", "account.removed"]) {
      assert.ok(actions.has(a as never), a);
    }
  });
});

Deno.test("admin accounts: status shows cooling_down from the proxy's records, quota and refresh", async (t) => {
  await using env = await accountsEnv();
  const imported = await env.admin(
    "POST",
    "/accounts/claude/import",
    await fixture("claude-credentials.json"),
  );
  const id = imported.json.account.id;

  await t.step("an account-wide cooldown sets cooling_down and coolingDownUntil", async () => {
    const until = env.deps.now() + 60_000;
    await env.deps.kv.set(keys.cooldown(id, "*"), { until, reason: "rate_limited", status: 429 });
    await env.deps.kv.set(keys.accountQuota(id), {
      updatedAt: env.deps.now(),
      windows: [{ name: "5h", usedFraction: 0.25 }],
    });
    const view = (await env.admin("GET", `/accounts/${id}`)).json.account;
    assert.equal(view.status, "cooling_down");
    assert.equal(view.coolingDownUntil, until);
    assert.deepEqual(view.quota.windows, [{ name: "5h", usedFraction: 0.25 }]);
    env.deps.clock.advance(61_000);
    assert.equal((await env.admin("GET", `/accounts/${id}`)).json.account.status, "active");
  });
  await t.step("lastUsedAt comes from the usage area's record", async () => {
    await env.deps.kv.set(keys.lastUsed("account", id), new Deno.KvU64(1234n));
    assert.equal((await env.admin("GET", `/accounts/${id}`)).json.account.lastUsedAt, 1234);
  });
  await t.step("quota: live windows from the usage endpoint plus the stored headers", async () => {
    env.fakes.anthropic.setRateLimit({ fiveHourUtilization: 0.5, sevenDayUtilization: 0.2 });
    const res = await env.admin("GET", `/accounts/${id}/quota`);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.provider, "claude");
    const five = res.json.windows.find((w: { name: string }) => w.name === "5h");
    assert.equal(five.usedFraction, 0.5);
    assert.ok(five.resetsAt > env.deps.now());
    assert.equal(res.json.lastHeaders.windows[0].name, "5h");
    assert.equal(res.json.fetchedAt, env.deps.now());
  });
  await t.step("Codex and Copilot quota views", async () => {
    const codex = await env.admin(
      "POST",
      "/accounts/codex/import",
      await fixture("codex-auth.json"),
    );
    env.fakes.chatgpt.setQuota({ primaryUsedPercent: 40, secondaryUsedPercent: 10 });
    const q = await env.admin("GET", `/accounts/${codex.json.account.id}/quota`);
    assert.equal(q.status, 200, JSON.stringify(q.json));
    assert.deepEqual(q.json.windows.map((w: { name: string }) => w.name), ["5h", "7d"]);
    assert.equal(q.json.windows[0].usedFraction, 0.4);
    assert.equal(q.json.plan, "pro");
    const copilot = await env.admin(
      "POST",
      "/accounts/copilot/import",
      await fixture("copilot-hosts.json"),
    );
    const c = await env.admin("GET", `/accounts/${copilot.json.account.id}/quota`);
    assert.equal(c.status, 200, JSON.stringify(c.json));
    assert.equal(c.json.windows[0].name, "premium_interactions");
    assert.ok(Math.abs(c.json.windows[0].usedFraction - 0.167) < 0.001);
    assert.equal(c.json.plan, "individual");
  });
  await t.step("POST refresh rotates the tokens and audits it", async () => {
    const before = env.fakes.claudePlatform.refreshCount;
    const res = await env.admin("POST", `/accounts/${id}/refresh`);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(env.fakes.claudePlatform.refreshCount, before + 1);
    assert.equal(res.json.account.lastRefreshAt, env.deps.now());
    assert.equal(res.json.account.expiresAt, env.deps.now() + 28_800_000);
  });
});

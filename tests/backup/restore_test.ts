/**
 * Restore on start and the recovery scenarios: a lost KV store, a lost
 * encryption key, a backup older than the last refresh, two instances
 * restoring at once, and a restore that died half-way.
 */
import assert from "node:assert/strict";
import { envWithAccounts, NO_WAIT, s3Spec, withBackup } from "./helpers.ts";
import { accountsEnv, FAST_TUNING, fixture, upstreamOf } from "../accounts/helpers.ts";
import { adminHeaders, callWithKey, createKey } from "../keys/helpers.ts";
import { openKv } from "../../src/kv/open.ts";
import { testDeps } from "../support/test_deps.ts";
import { twoInstances } from "../support/two_instances.ts";
import { startS3rver } from "../support/backup_servers.ts";
import { createApp } from "../../src/app.ts";
import { buildBackupFile } from "../../src/accounts/backup.ts";
import { scheduledBackupJob } from "../../src/backup/scheduled.ts";
import { RestoreError, restoreOnStart } from "../../src/backup/restore_on_start.ts";
import { backupName, type BackupTarget, openTarget } from "../../src/backup/target.ts";
import { listAccounts, loadTokens } from "../../src/accounts/repository.ts";
import { listAudit } from "../../src/audit.ts";
import type { RefreshDeps } from "../../src/accounts/refresh.ts";
import { keys } from "../../src/kv/keys.ts";
import type { Deps } from "../../src/deps.ts";

/** A directory target holding the given backup files. */
async function dirWith(
  files: { createdAt: number }[],
): Promise<{ dir: string; target: BackupTarget }> {
  const dir = await Deno.makeTempDir();
  for (const file of files) {
    await Deno.writeTextFile(`${dir}/${backupName(file.createdAt)}`, JSON.stringify(file));
  }
  return { dir, target: openTarget({ kind: "dir", path: dir }, { fetch, now: Date.now }) };
}

async function auditActions(deps: Deps, action: string) {
  return (await listAudit(deps.kv, { limit: 200 })).entries.filter((e) => e.action === action);
}

Deno.test({
  name: "restore on start: the newest backup, before serving, logged and audited",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using env = await envWithAccounts();
    const older = await buildBackupFile(env.deps);
    env.deps.clock.advance(60_000);
    await env.admin("POST", "/accounts/copilot/import", {
      accessToken: env.fakes.world.issueCopilotToken(),
    });
    const newer = await buildBackupFile(env.deps);
    assert.equal(newer.accounts, 3);

    await t.step("not configured, or accounts present: nothing happens", async () => {
      assert.deepEqual(await restoreOnStart(env.deps), { kind: "not_configured" });
      const { dir, target } = await dirWith([older]);
      assert.deepEqual(await restoreOnStart(env.deps, { target }), { kind: "has_accounts" });
      await Deno.remove(dir, { recursive: true });
    });

    await t.step("a lost KV store: an empty one gets the newest backup from S3", async () => {
      await using s3 = await startS3rver();
      const backed = withBackup(env.deps, { target: s3Spec(s3) });
      await scheduledBackupJob(backed, NO_WAIT)();

      await using fresh = await testDeps({ config: { upstream: upstreamOf(env.fakes) } });
      const restoring = withBackup(fresh, { restoreFrom: s3Spec(s3) });
      const result = await restoreOnStart(restoring);
      assert.equal(result.kind, "restored");
      assert.ok(result.kind === "restored" && result.summary.accounts === 3);
      assert.equal((await listAccounts(fresh.kv)).length, 3);
      const [entry] = await auditActions(fresh, "backup.restored");
      assert.equal(entry?.actor, "system");
      assert.match(
        String(entry?.details?.source),
        /^s3:\/\/kleis-backups\/kleis\/ at .* kleis-backup-\d{8}T\d{9}Z\.json$/,
      );
      assert.ok(fresh.logLines.some((l) => l.includes("Restored the newest backup on start")));
      assert.equal((await fresh.kv.get(keys.restoreLease())).value, null, "lease released");
      // The app on the restored store serves the accounts.
      const app = createApp(fresh);
      const res = await app.request("/admin/accounts", {
        headers: { authorization: `Bearer ${fresh.config.adminToken}` },
      });
      assert.equal((await res.json()).accounts.length, 3);
    });

    await t.step("the newest of several backups is the one restored", async () => {
      const { dir, target } = await dirWith([newer, older]);
      await using fresh = await testDeps();
      const result = await restoreOnStart(fresh, { target });
      assert.equal(result.kind === "restored" && result.name, backupName(newer.createdAt));
      assert.equal((await listAccounts(fresh.kv)).length, 3);
      await Deno.remove(dir, { recursive: true });
    });

    await t.step("a target without backups: start empty, say so", async () => {
      const { dir, target } = await dirWith([]);
      await using fresh = await testDeps();
      assert.equal((await restoreOnStart(fresh, { target })).kind, "no_backup");
      assert.ok(fresh.logLines.some((l) => l.includes("holds no backup")));
      await Deno.remove(dir, { recursive: true });
    });

    await t.step(
      "a lost encryption key: the backup cannot be opened, nothing is written",
      async () => {
        const { dir, target } = await dirWith([newer]);
        await using other = await testDeps({
          config: { encryptionKey: new Uint8Array(32).fill(1) },
        });
        await assert.rejects(
          () => restoreOnStart(other, { target }),
          (error) =>
            error instanceof RestoreError && /another KLEIS_ENCRYPTION_KEY/.test(error.message),
        );
        assert.equal((await listAccounts(other.kv)).length, 0);
        assert.equal((await other.kv.get(keys.restoreLease())).value, null);
        // What is readable without the key: only the header (time and counts).
        const file = JSON.parse(
          new TextDecoder().decode(await target.read(await target.list().then((n) => n[0]!))),
        );
        assert.deepEqual(
          { accounts: file.accounts, apiKeys: file.apiKeys, createdAt: file.createdAt },
          { accounts: 3, apiKeys: 0, createdAt: newer.createdAt },
        );
        await Deno.remove(dir, { recursive: true });
      },
    );
  },
});

Deno.test("two instances restoring at once: one restores, the other waits; nothing doubled", async () => {
  await using env = await envWithAccounts();
  const file = await buildBackupFile(env.deps);
  const { dir, target } = await dirWith([file]);
  await using pair = await twoInstances();
  const [a, b] = await Promise.all([
    restoreOnStart(pair.a, { target, pollMs: 5 }),
    restoreOnStart(pair.b, { target, pollMs: 5 }),
  ]);
  assert.deepEqual([a.kind, b.kind].sort(), ["has_accounts", "restored"]);
  const accounts = await listAccounts(pair.a.kv);
  assert.equal(accounts.length, 2);
  assert.equal((await auditActions(pair.a, "backup.restored")).length, 1);
  for (const account of accounts) {
    assert.equal(
      (await pair.b.kv.get(keys.accountByExternalId(account.provider, account.externalId))).value,
      account.id,
    );
    const source = await loadTokens(env.deps, account.id);
    const restored = await loadTokens(pair.b, account.id);
    assert.equal(restored?.generation, source?.generation, "tokens written once");
    assert.equal(restored?.tokens.refreshToken, source?.tokens.refreshToken);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a restore that died half-way is completed by the next start", async () => {
  await using env = await envWithAccounts();
  const file = await buildBackupFile(env.deps);
  const { dir, target } = await dirWith([file]);
  await using fresh = await testDeps();
  // What a crash leaves: one account written, the lease still there, past its deadline.
  const [first] = await listAccounts(env.deps.kv);
  await fresh.kv.set(keys.account(first!.id), first);
  await fresh.kv.set(keys.restoreLease(), { owner: "dead", until: fresh.clock.now() - 1 });
  const result = await restoreOnStart(fresh, { target });
  assert.equal(result.kind, "restored");
  assert.equal((await listAccounts(fresh.kv)).length, 2);
  assert.ok(fresh.logLines.some((l) => l.includes("did not finish")));
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "a backup older than the last refresh",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using env = await envWithAccounts();
    const issued = env.fakes.world.issueCodexTokens({ accountId: "acct-old-backup" });
    const imported = await env.admin("POST", "/accounts/codex/import", {
      accessToken: issued.access_token,
      refreshToken: issued.refresh_token,
    });
    const id = imported.json.account.id;
    const file = await buildBackupFile(env.deps);
    env.deps.clock.advance(60_000);
    const refreshed = await env.admin("POST", `/accounts/${id}/refresh`);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.json));
    const current = (await loadTokens(env.deps, id))!.tokens.refreshToken;
    assert.notEqual(current, issued.refresh_token);

    await t.step("restored over the live store: the newer token is kept", async () => {
      const { dir, target } = await dirWith([file]);
      const { restoreBackup } = await import("../../src/accounts/backup.ts");
      await restoreBackup(
        env.deps,
        JSON.parse(new TextDecoder().decode(await target.read((await target.list())[0]!))),
      );
      assert.equal((await loadTokens(env.deps, id))!.tokens.refreshToken, current);
      const again = await env.admin("POST", `/accounts/${id}/refresh`);
      assert.equal(again.status, 200, "the kept token still refreshes");
      await Deno.remove(dir, { recursive: true });
    });

    await t.step(
      "restored into a lost store: the spent refresh token asks for a new login",
      async () => {
        const { dir, target } = await dirWith([file]);
        await using fresh = await testDeps({
          config: { upstream: upstreamOf(env.fakes) },
          clock: env.deps.clock,
        }) as Awaited<ReturnType<typeof testDeps>> & RefreshDeps;
        fresh.refreshTuning = FAST_TUNING;
        assert.equal((await restoreOnStart(fresh, { target })).kind, "restored");
        const app = createApp(fresh);
        const headers = { authorization: `Bearer ${fresh.config.adminToken}` };
        const res = await app.request(`/admin/accounts/${id}/refresh`, { method: "POST", headers });
        assert.notEqual(res.status, 200);
        await res.body?.cancel();
        const list = await (await app.request("/admin/accounts", { headers })).json();
        const account = list.accounts.find((a: { id: string }) => a.id === id);
        assert.equal(account.status, "needs_login");
        // The accounts whose tokens did not rotate since the backup are unaffected.
        assert.equal(
          list.accounts.filter((a: { status: string }) => a.status === "needs_login").length,
          1,
        );
        await Deno.remove(dir, { recursive: true });
      },
    );
  },
});

Deno.test({
  name: "a lost encryption key with the store intact: keys keep working, accounts need a new login",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const kv = await openKv(`${dir}/kleis.db`);
    try {
      await using env = await accountsEnv({ kv });
      const app = createApp(env.deps);
      const { secret } = await createKey(app, env.deps, { label: "agent" });
      const imported = await env.admin(
        "POST",
        "/accounts/codex/import",
        await fixture("codex-auth.json"),
      );
      const id = imported.json.account.id;

      await using other = await testDeps({
        kv,
        config: { encryptionKey: new Uint8Array(32).fill(1), upstream: upstreamOf(env.fakes) },
        clock: env.deps.clock,
      });
      const otherApp = createApp(other);
      const res = await callWithKey(otherApp, secret);
      assert.equal(res.status, 200, "the API key (a hash) still authenticates");
      await res.body?.cancel();
      await assert.rejects(() => loadTokens(other, id), "the sealed tokens cannot be opened");
      // Importing the same identity again gives the account tokens sealed with the new key.
      const again = await otherApp.request("/admin/accounts/codex/import", {
        method: "POST",
        headers: adminHeaders(other),
        body: JSON.stringify(await fixture("codex-auth.json")),
      });
      assert.equal(again.status, 200, await again.clone().text());
      assert.equal((await again.json()).account.id, id, "the same account, not a second one");
      assert.ok((await loadTokens(other, id))?.tokens.accessToken);
      assert.equal((await listAccounts(other.kv)).length, 1);
    } finally {
      kv.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

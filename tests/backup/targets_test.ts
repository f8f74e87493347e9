/**
 * A cron run (the job's handler called directly, the clock injected) writes
 * a sealed backup to each kind of target, real servers behind each: a
 * local directory, s3rver (checks SigV4), a bare git repository through the
 * real git, and git's smart HTTP server behind a token.
 */
import assert from "node:assert/strict";
import { envWithAccounts, gitSpec, NO_WAIT, s3Spec, withBackup } from "./helpers.ts";
import { testDeps } from "../support/test_deps.ts";
import { bareRepo, gitHttpServer, startS3rver } from "../support/backup_servers.ts";
import { readBackupStatus, scheduledBackupJob } from "../../src/backup/scheduled.ts";
import { type BackupTarget, openTarget } from "../../src/backup/target.ts";
import type { BackupTargetSpec } from "../../src/config.ts";
import type { Deps } from "../../src/deps.ts";
import { restoreBackup } from "../../src/accounts/backup.ts";
import { listAccounts } from "../../src/accounts/repository.ts";
import { listAudit } from "../../src/audit.ts";

const HOUR = 60 * 60_000;

/** Runs the cron handler `runs` times, an hour apart; answers the names written, oldest first. */
async function cronRuns(deps: Deps & { clock: { advance(ms: number): void } }, runs: number) {
  const names: string[] = [];
  for (let i = 0; i < runs; i++) {
    await scheduledBackupJob(deps, NO_WAIT)();
    const status = await readBackupStatus(deps.kv);
    assert.equal(status.lastRun?.ok, true, JSON.stringify(status.lastRun));
    names.push(status.lastRun!.name!);
    deps.clock.advance(HOUR);
  }
  return names;
}

/** What every target must show after four runs with keep = 2. */
async function assertKeptAndSealed(
  deps: Deps,
  target: BackupTarget,
  names: string[],
  secrets: string[],
) {
  assert.deepEqual(await target.list(), names.slice(-2), "the newest two are kept, in order");
  const text = new TextDecoder().decode(await target.read(names.at(-1)!));
  for (const secret of secrets) assert.ok(!text.includes(secret), "no token in clear");
  const file = JSON.parse(text);
  assert.equal(file.format, "kleis-backup");
  assert.equal(file.accounts, 2);
  // Sealed with the key: another store with the same key restores it whole.
  await using other = await testDeps();
  const summary = await restoreBackup(other, file);
  assert.deepEqual(summary, { accounts: 2, apiKeys: 0, settings: 0, skipped: [] });
  const status = await readBackupStatus(deps.kv);
  assert.equal(status.lastRun?.name, names.at(-1));
  assert.equal(status.lastRun?.bytes, new TextEncoder().encode(text).byteLength);
  assert.equal(status.lastRun?.target, target.description);
  assert.equal(status.lastRun?.kept, 2);
  assert.equal(status.lastRun?.removed, 1);
  assert.equal(status.consecutiveFailures, 0);
}

Deno.test({
  name: "a cron run writes a sealed backup to each target and keeps the newest N",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using env = await envWithAccounts();
    const secrets = ["rt_fixture_codex_0001", "sk-ant-ort01-fixture", "sk-ant-oat01-fixture"];

    const check = async (spec: BackupTargetSpec) => {
      const deps = withBackup(env.deps, { target: spec, keep: 2 });
      const names = await cronRuns(deps, 4);
      assert.equal(new Set(names).size, 4);
      const target = openTarget(spec, deps);
      await assertKeptAndSealed(deps, target, names, secrets);
      return { deps, names };
    };

    await t.step("a local directory", async () => {
      const dir = await Deno.makeTempDir();
      try {
        await Deno.writeTextFile(`${dir}/notes.txt`, "not a backup");
        await check({ kind: "dir", path: `${dir}/backups` });
        await Deno.writeTextFile(`${dir}/backups/README`, "kept");
        const files = [...Deno.readDirSync(`${dir}/backups`)].map((e) => e.name).sort();
        assert.equal(files.length, 3, "two backups and the foreign file, no partial file");
        const backup = files.find((f) => f.startsWith("kleis-backup-"))!;
        assert.equal((await Deno.stat(`${dir}/backups/${backup}`)).mode! & 0o777, 0o600);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });

    await t.step("an S3-compatible bucket (s3rver, signatures checked)", async () => {
      await using s3 = await startS3rver();
      const { names } = await check(s3Spec(s3));
      assert.deepEqual(await s3.keys(), names.slice(-2).map((n) => `kleis/${n}`));

      // The server checks signatures: a wrong secret is refused, and the error keeps it out.
      const wrong = { ...s3Spec(s3), secretAccessKey: "not-the-secret-S3RVER" } as BackupTargetSpec;
      const deps = withBackup(env.deps, { target: wrong, keep: 2 });
      await scheduledBackupJob(deps, NO_WAIT)();
      const status = await readBackupStatus(deps.kv);
      assert.equal(status.lastRun?.ok, false);
      assert.match(status.lastRun!.error!, /403 SignatureDoesNotMatch/);
      assert.ok(!JSON.stringify(status).includes("not-the-secret"));
      assert.deepEqual(await s3.keys(), names.slice(-2).map((n) => `kleis/${n}`));
    });

    await t.step("a git remote (a bare repository, the real git)", async () => {
      await using repo = await bareRepo();
      const { names } = await check(gitSpec(repo.path));
      assert.equal(await repo.commits(), 4, "one commit per backup");
      assert.deepEqual(await repo.files(), names.slice(-2));
    });

    await t.step("a git remote over http with a token (git http-backend)", async () => {
      await using repo = await bareRepo();
      const token = "ghp_backupToken0123456789abcdef";
      await using server = gitHttpServer(repo, "x-access-token", token);
      const { deps, names } = await check(gitSpec(server.url, { token }));
      assert.deepEqual(await repo.files(), names.slice(-2));
      assert.ok(server.authorizations.length > 0);
      assert.ok(
        server.authorizations.every((a) => a === `Basic ${btoa(`x-access-token:${token}`)}`),
      );

      // Without the token the server refuses, and neither log nor status nor audit holds it.
      const noToken = withBackup(deps, { target: gitSpec(server.url) });
      await scheduledBackupJob(noToken, NO_WAIT)();
      const status = await readBackupStatus(deps.kv);
      assert.equal(status.lastRun?.ok, false);
      assert.match(status.lastRun!.error!, /git ls-remote failed/);
      const audit = JSON.stringify(await listAudit(deps.kv, { limit: 100 }));
      for (const text of [JSON.stringify(status), env.deps.logLines.join("\n"), audit]) {
        assert.ok(!text.includes(token));
        assert.ok(!text.includes(btoa(`x-access-token:${token}`)));
      }
    });
  },
});

Deno.test("an empty store is not backed up over the good copies", async () => {
  await using deps = await testDeps();
  const dir = await Deno.makeTempDir();
  try {
    const withDir = withBackup(deps, { target: { kind: "dir", path: dir }, keep: 1 });
    await Deno.writeTextFile(`${dir}/kleis-backup-20260101T000000000Z.json`, "{}");
    await scheduledBackupJob(withDir, NO_WAIT)();
    const status = await readBackupStatus(deps.kv);
    assert.equal(status.lastRun?.ok, false);
    assert.match(status.lastRun!.skipped!, /no accounts/);
    assert.equal(status.consecutiveFailures, 0);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      "kleis-backup-20260101T000000000Z.json",
    ]);
    assert.equal((await listAccounts(deps.kv)).length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

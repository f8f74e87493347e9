/**
 * A target that fails: the run retries, records and shows the failure, and
 * requests keep being answered while it hangs on the target.
 */
import assert from "node:assert/strict";
import { envWithAccounts, NO_WAIT, withBackup } from "./helpers.ts";
import { createApp } from "../../src/app.ts";
import { readBackupStatus, scheduledBackupJob } from "../../src/backup/scheduled.ts";
import { listAudit } from "../../src/audit.ts";
import { createKey } from "../keys/helpers.ts";
import { hangingServer } from "../support/hanging_server.ts";

Deno.test({
  name: "a failing target is retried and reported while requests keep flowing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using env = await envWithAccounts();
    await using hung = hangingServer();
    const deps = withBackup(env.deps, {
      target: {
        kind: "s3",
        endpoint: hung.url,
        bucket: "kleis-backups",
        prefix: "",
        region: "us-east-1",
        accessKeyId: "AKIDEXAMPLE",
        secretAccessKey: "backup-secret-never-shown",
      },
    });
    const app = createApp(deps);
    const { secret } = await createKey(app, deps, { label: "agent" });

    await t.step("three attempts, each bounded, while requests are answered", async () => {
      let settled = false;
      const job = scheduledBackupJob(deps, {
        retryDelaysMs: [300, 300],
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        timeoutMs: 1_000,
      })().finally(() => settled = true);

      const latencies: number[] = [];
      for (let i = 0; i < 200 && !settled; i++) {
        const started = performance.now();
        const responses = await Promise.all([
          app.request("/v1/models", { headers: { authorization: `Bearer ${secret}` } }),
          app.request("/admin/accounts", {
            headers: { authorization: `Bearer ${deps.config.adminToken}` },
          }),
          app.request("/healthz"),
        ]);
        latencies.push(performance.now() - started);
        for (const res of responses) {
          assert.equal(res.status, 200);
          await res.body?.cancel();
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await job;
      assert.ok(latencies.length >= 10, `only ${latencies.length} rounds while the backup ran`);
      latencies.sort((a, b) => a - b);
      // The run takes over 3.6 s; a request held by it would wait that long.
      assert.ok(latencies.at(-1)! < 1_500, `slowest round ${latencies.at(-1)} ms`);
      assert.equal(hung.connections.length, 3, "one connection per attempt");
      console.log(
        `rounds while the backup hung: ${latencies.length}, median ${
          latencies[latencies.length >> 1]!.toFixed(1)
        } ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
      );
    });

    await t.step("the failure is recorded, audited and shown by the admin API", async () => {
      const status = await readBackupStatus(deps.kv);
      assert.equal(status.lastRun?.ok, false);
      assert.equal(status.lastRun?.attempts, 3);
      assert.match(status.lastRun!.error!, /abort|timed out|timeout/i);
      assert.equal(status.consecutiveFailures, 1);
      const res = await app.request("/admin/backups", {
        headers: { authorization: `Bearer ${deps.config.adminToken}` },
      });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.deepEqual(Object.keys(body).sort(), [
        "configured",
        "consecutiveFailures",
        "keep",
        "lastFailure",
        "lastRun",
        "lastSuccess",
        "restoreFrom",
        "schedule",
        "target",
      ]);
      assert.equal(body.configured, true);
      assert.equal(body.target, `s3://kleis-backups/ at ${hung.url}`);
      assert.equal(body.lastFailure.attempts, 3);
      assert.equal(body.lastSuccess, null);
      assert.equal(body.consecutiveFailures, 1);
      const audit = await listAudit(deps.kv, { limit: 20 });
      const failed = audit.entries.find((e) => e.action === "backup.failed");
      assert.equal(failed?.details?.attempts, 3);
      for (const text of [JSON.stringify(body), JSON.stringify(audit), deps.logLines.join("\n")]) {
        assert.ok(!text.includes("backup-secret-never-shown"));
      }
    });

    await t.step(
      "a retry that succeeds counts its attempts and clears the failure count",
      async () => {
        const dir = await Deno.makeTempDir();
        try {
          // The target path is a file at first (the write fails), gone before the retry.
          await Deno.writeTextFile(`${dir}/backups`, "in the way");
          const ok = withBackup(deps, { target: { kind: "dir", path: `${dir}/backups` } });
          await scheduledBackupJob(ok, {
            ...NO_WAIT,
            retryDelaysMs: [1],
            sleep: () => Deno.remove(`${dir}/backups`),
          })();
          const status = await readBackupStatus(deps.kv);
          assert.equal(status.lastRun?.ok, true);
          assert.equal(status.lastRun?.attempts, 2);
          assert.equal(status.consecutiveFailures, 0);
          assert.equal(status.lastFailure?.attempts, 3, "the last failure stays visible");
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    );

    await t.step("POST /admin/backups/run: one attempt now; 409 without a target", async () => {
      const blocker = await Deno.makeTempFile();
      const blocked = withBackup(deps, { target: { kind: "dir", path: blocker } });
      const res = await createApp(blocked).request("/admin/backups/run", {
        method: "POST",
        headers: { authorization: `Bearer ${deps.config.adminToken}` },
      });
      await Deno.remove(blocker);
      assert.equal(res.status, 200);
      const outcome = await res.json();
      assert.equal(outcome.ok, false);
      assert.equal(outcome.attempts, 1);
      assert.equal((await readBackupStatus(deps.kv)).consecutiveFailures, 1);
      const none = createApp(withBackup(deps, { target: undefined }));
      const refused = await none.request("/admin/backups/run", {
        method: "POST",
        headers: { authorization: `Bearer ${deps.config.adminToken}` },
      });
      assert.equal(refused.status, 409);
      assert.equal((await refused.json()).error.code, "backup_not_configured");
    });
  },
});

/**
 * End to end, main.ts as real processes: one Kleis backs up to a git
 * remote and loses its KV file; a fresh Kleis with an empty KV and
 * KLEIS_RESTORE_FROM serves the restored accounts and key on its first
 * request. With another encryption key, start-up stops with a clear message.
 */
import assert from "node:assert/strict";
import { startAllFakes } from "../fakes/mod.ts";
import { startKleis } from "../support/kleis_process.ts";
import { adminPost, importOneOfEach } from "../support/e2e_setup.ts";
import { bareRepo } from "../support/backup_servers.ts";

async function adminGet(kleis: { url: string; adminToken: string }, path: string) {
  const res = await fetch(`${kleis.url}/admin${path}`, {
    headers: { authorization: `Bearer ${kleis.adminToken}` },
  });
  assert.equal(res.status, 200, path);
  return await res.json();
}

Deno.test({
  name:
    "a fresh Kleis with an empty KV and KLEIS_RESTORE_FROM serves the restored accounts at once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const fakes = await startAllFakes();
    await using repo = await bareRepo();
    const target = `git:${repo.path}`;
    const first = await startKleis({ env: { ...fakes.env, KLEIS_BACKUP_TARGET: target } });
    let secret = "";
    try {
      await t.step("the first instance holds three accounts and a key, and backs up", async () => {
        await importOneOfEach(fakes, first);
        secret = (await adminPost(first, "/keys", { label: "agent" })).secret as string;
        const outcome = await adminPost(first, "/backups/run", {});
        assert.equal(outcome.ok, true, JSON.stringify(outcome));
        const overview = await adminGet(first, "/backups");
        assert.equal(overview.target, `${target} (branch main)`);
        assert.equal(overview.lastSuccess.accounts, 3);
        assert.equal(overview.lastSuccess.apiKeys, 1);
        assert.deepEqual(await repo.files(), [overview.lastSuccess.name]);
      });
    } finally {
      await first.stop();
    }
    // The lost KV file.
    for (const suffix of ["", "-wal", "-shm"]) {
      await Deno.remove(`${first.kvPath}${suffix}`).catch(() => {});
    }

    await t.step(
      "the fresh instance restores before serving; the first request is served",
      async () => {
        const second = await startKleis({
          env: { ...fakes.env, KLEIS_RESTORE_FROM: target },
          dir: first.dir,
        });
        try {
          // The first request to the new process: a proxied call with the restored key.
          const res = await fetch(`${second.url}/anthropic/v1/messages`, {
            method: "POST",
            headers: { "x-api-key": secret, "content-type": "application/json" },
            body: JSON.stringify({
              model: "claude-sonnet-4-5",
              max_tokens: 10,
              messages: [{ role: "user", content: "hi" }],
            }),
          });
          assert.equal(res.status, 200, await res.clone().text());
          await res.body?.cancel();
          const { accounts } = await adminGet(second, "/accounts");
          assert.equal(accounts.length, 3);
          const audit = await adminGet(second, "/audit?limit=50");
          const restored = audit.entries.find((e: { action: string }) =>
            e.action === "backup.restored"
          );
          assert.equal(restored.actor, "system");
          assert.equal(restored.details.accounts, 3);
          assert.match(second.output(), /Restored the newest backup on start/);
          for (const leaked of [secret, second.adminToken]) {
            assert.ok(!second.output().includes(leaked));
          }
        } finally {
          await second.stop();
        }
      },
    );

    await t.step("two processes starting at once on one empty store: one restore", async () => {
      const dir = await Deno.makeTempDir({ prefix: "kleis-e2e-" });
      const kvPath = `${dir}/kleis.db`;
      const env = { ...fakes.env, KLEIS_RESTORE_FROM: target };
      const [a, b] = await Promise.all([
        startKleis({ env, kvPath, dir }),
        startKleis({ env, kvPath, dir }),
      ]);
      try {
        for (const kleis of [a, b]) {
          assert.equal((await adminGet(kleis, "/accounts")).accounts.length, 3);
        }
        const audit = await adminGet(a, "/audit?limit=200");
        const restores = audit.entries.filter((e: { action: string }) =>
          e.action === "backup.restored"
        );
        assert.equal(restores.length, 1, "restored once, not twice");
        const logs = [a.output(), b.output()].filter((o) =>
          o.includes("Restored the newest backup on start")
        );
        assert.equal(logs.length, 1);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
        await Deno.remove(dir, { recursive: true });
      }
    });

    await t.step("with another encryption key, start-up stops and says why", async () => {
      const dir = await Deno.makeTempDir({ prefix: "kleis-e2e-" });
      const error = await startKleis({
        env: {
          ...fakes.env,
          KLEIS_RESTORE_FROM: target,
          KLEIS_ENCRYPTION_KEY: btoa(String.fromCharCode(...new Uint8Array(32).fill(3))),
        },
        dir,
      }).then(
        async (k) => {
          await k.stop();
          return new Error("started");
        },
        (e: Error) => e,
      );
      assert.match(error.message, /Kleis exited during start-up/);
      assert.match(
        error.message,
        /Kleis cannot start: KLEIS_RESTORE_FROM: .*another KLEIS_ENCRYPTION_KEY/,
      );
      await Deno.remove(dir, { recursive: true });
    });
    await fakes.close();
    await Deno.remove(first.dir, { recursive: true }).catch(() => {});
  },
});

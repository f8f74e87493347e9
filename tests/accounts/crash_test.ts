/**
 * End to end: main.ts as a real process, killed with SIGKILL while the token
 * endpoint holds its refresh, restarted on the same KV file.
 */
import assert from "node:assert/strict";
import { startAllFakes } from "../fakes/mod.ts";
import { startKleis, TEST_ENCRYPTION_KEY } from "../support/kleis_process.ts";
import { memoryLogger, testConfig } from "../support/test_config.ts";
import { createDeps } from "../../src/deps.ts";
import { loadTokens } from "../../src/accounts/repository.ts";
import { allTokens, assertNoTokenAtRest } from "./at_rest.ts";
import { openKv } from "../../src/kv/open.ts";

async function admin(url: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

Deno.test({
  name:
    "a process killed mid-refresh leaves an account that refreshes after restart; no refresh token lost",
  // Process tests: the child's pipes and the held fake request end with the kill.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const fakes = await startAllFakes();
    const first = await startKleis({ env: fakes.env });
    let second: Awaited<ReturnType<typeof startKleis>> | undefined;
    try {
      const issued = fakes.world.issueCodexTokens({ accountId: "acct-crash", expiresInSec: 120 });
      const imported = await admin(first.url, first.adminToken, "POST", "/accounts/codex/import", {
        accessToken: issued.access_token,
        refreshToken: issued.refresh_token,
      });
      assert.equal(imported.status, 200, JSON.stringify(imported.json));
      const id = imported.json.account.id;

      const release = fakes.openaiAuth.holdRefresh();
      const pending = admin(first.url, first.adminToken, "POST", `/accounts/${id}/refresh`)
        .catch(() => undefined);
      const deadline = Date.now() + 5_000;
      while (fakes.openaiAuth.refreshCount < 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(fakes.openaiAuth.refreshCount, 1, "the refresh reached the token endpoint");
      await first.kill();
      await pending;
      release();

      second = await startKleis({ env: fakes.env, kvPath: first.kvPath, dir: first.dir });
      // The dead process's lease answers 409 until its deadline passes; then the refresh runs.
      let res = await admin(second.url, second.adminToken, "POST", `/accounts/${id}/refresh`);
      const until = Date.now() + 20_000;
      while (res.status === 409 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250));
        res = await admin(second.url, second.adminToken, "POST", `/accounts/${id}/refresh`);
      }
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.account.status, "active");
      assert.equal(res.json.account.lastRefreshError, undefined);
      // The held request was never processed; the restart used the stored token once.
      assert.notEqual(fakes.world.codex.refresh.get(issued.refresh_token)!.usedAt, null);

      // The stored refresh token is the newest one and still unused at the provider.
      const kv = await openKv(first.kvPath);
      try {
        const deps = await createDeps(
          kv,
          testConfig({
            encryptionKey: Uint8Array.from(atob(TEST_ENCRYPTION_KEY), (c) => c.charCodeAt(0)),
          }),
          { log: memoryLogger() },
        );
        const stored = await loadTokens(deps, id);
        assert.notEqual(stored!.tokens.refreshToken, issued.refresh_token);
        const record = fakes.world.codex.refresh.get(stored!.tokens.refreshToken!);
        assert.ok(record, "the stored refresh token was issued by the provider");
        assert.equal(record.usedAt, null);
      } finally {
        kv.close();
      }
      await second.stop();
      await assertNoTokenAtRest(first.kvPath, allTokens(fakes.world));
    } finally {
      await second?.stop();
      await first.stop();
      await fakes.close();
      await Deno.remove(first.dir, { recursive: true }).catch(() => {});
    }
  },
});

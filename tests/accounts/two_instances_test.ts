import assert from "node:assert/strict";
import { startAllFakes } from "../fakes/mod.ts";
import { testClock, testDeps } from "../support/test_deps.ts";
import { FAST_TUNING, upstreamOf } from "./helpers.ts";
import { getUpstreamCredentials } from "../../src/accounts/credentials.ts";
import { getAccount, listAccounts, loadTokens, saveLogin } from "../../src/accounts/repository.ts";
import { runRefreshSweep } from "../../src/jobs/refresh_sweep.ts";
import { openKv } from "../../src/kv/open.ts";

Deno.test("two instances on one KV file, one sweeping and one serving, refresh each account once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kleis-two-" });
  const path = `${dir}/kv.db`;
  const fakes = await startAllFakes();
  const clock = testClock();
  fakes.world.now = clock.now;
  const kvA = await openKv(path);
  const kvB = await openKv(path);
  try {
    const config = { upstream: upstreamOf(fakes) };
    const sweeper = Object.assign(await testDeps({ kv: kvA, clock, config }), {
      refreshTuning: FAST_TUNING,
    });
    const server = Object.assign(await testDeps({ kv: kvB, clock, config }), {
      refreshTuning: FAST_TUNING,
    });

    // Six accounts whose tokens expire in 4 minutes: the sweep (< 30 min) and requests (< 5 min) both want them.
    for (let i = 0; i < 3; i++) {
      const c = fakes.world.issueCodexTokens({ accountId: `acct-two-${i}`, expiresInSec: 240 });
      await saveLogin(sweeper, "codex", {
        tokens: {
          accessToken: c.access_token,
          refreshToken: c.refresh_token,
          expiresAt: clock.now() + 240_000,
        },
        identity: { externalId: `acct-two-${i}`, label: `codex ${i}` },
      }, { source: "test" });
      const a = fakes.world.issueClaudeTokens({ uuid: `uuid-two-${i}`, expiresInSec: 240 });
      await saveLogin(sweeper, "claude", {
        tokens: {
          accessToken: a.access_token,
          refreshToken: a.refresh_token,
          expiresAt: clock.now() + 240_000,
        },
        identity: { externalId: `uuid-two-${i}`, label: `claude ${i}` },
      }, { source: "test" });
    }
    const accounts = await listAccounts(kvB);
    assert.equal(accounts.length, 6);

    const served = Promise.all(
      accounts.flatMap((account) =>
        Array.from(
          { length: 8 },
          () =>
            getUpstreamCredentials(server, account).then((c) =>
              [account.id, c.accessToken] as const
            ),
        )
      ),
    );
    const [summary, results] = await Promise.all([runRefreshSweep(sweeper), served]);

    assert.equal(fakes.openaiAuth.refreshCount, 3);
    assert.equal(fakes.claudePlatform.refreshCount, 3);
    for (const account of accounts) {
      const stored = await loadTokens(server, account.id);
      assert.equal(stored!.generation, 2);
      for (const [id, token] of results) {
        if (id === account.id) assert.equal(token, stored!.tokens.accessToken);
      }
      assert.equal((await getAccount(kvA, account.id))!.needsLogin, undefined);
    }
    assert.equal(summary.failed, 0, sweeper.logLines.join("\n"));

    // A second sweep finds nothing to do: the new tokens last 10 days / 8 hours.
    const again = await runRefreshSweep(sweeper);
    assert.equal(again.refreshed, 0);
    assert.equal(fakes.openaiAuth.refreshCount + fakes.claudePlatform.refreshCount, 6);
  } finally {
    kvA.close();
    kvB.close();
    await fakes.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runRefreshSweep(): refreshes accounts expiring within 30 minutes, validates Copilot daily", async () => {
  const fakes = await startAllFakes();
  await using deps = await testDeps({ config: { upstream: upstreamOf(fakes) } });
  Object.assign(deps, { refreshTuning: FAST_TUNING });
  fakes.world.now = deps.clock.now;
  try {
    const soon = fakes.world.issueCodexTokens({ accountId: "acct-soon", expiresInSec: 20 * 60 });
    const later = fakes.world.issueCodexTokens({ accountId: "acct-later", expiresInSec: 2 * 3600 });
    for (const [id, t, s] of [["acct-soon", soon, 1200], ["acct-later", later, 7200]] as const) {
      await saveLogin(deps, "codex", {
        tokens: {
          accessToken: t.access_token,
          refreshToken: t.refresh_token,
          expiresAt: deps.now() + s * 1000,
        },
        identity: { externalId: id, label: id },
      }, { source: "test" });
    }
    const gho = fakes.world.issueCopilotToken({ userId: 99 });
    const copilot = await saveLogin(deps, "copilot", {
      tokens: { accessToken: gho },
      identity: { externalId: "99", label: "octo" },
    }, { source: "test" });

    const first = await runRefreshSweep(deps);
    assert.equal(first.refreshed, 1);
    assert.equal(first.validated, 1);
    assert.equal(fakes.openaiAuth.refreshCount, 1);

    // Within a day no second validation; after a day, a revoked token is found out.
    fakes.world.revoke(gho);
    const second = await runRefreshSweep(deps);
    assert.equal(second.validated, 0);
    deps.clock.advance(24 * 3600_000 + 1);
    const third = await runRefreshSweep(deps);
    assert.equal(third.needsLogin, 1);
    assert.equal((await getAccount(deps.kv, copilot.account.id))!.needsLogin, true);
  } finally {
    await fakes.close();
  }
});

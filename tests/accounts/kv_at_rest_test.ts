import assert from "node:assert/strict";
import { accountsEnv, fixture } from "./helpers.ts";
import { allTokens, assertNoTokenAtRest } from "./at_rest.ts";
import { refreshTokens } from "../../src/accounts/refresh.ts";
import { listAccounts } from "../../src/accounts/repository.ts";
import { openKv } from "../../src/kv/open.ts";

Deno.test("the KV file never holds an access or refresh token in clear", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kleis-rest-" });
  const path = `${dir}/kleis.db`;
  const kv = await openKv(path);
  try {
    await using env = await accountsEnv({ kv });
    for (
      const [file, provider] of [
        ["codex-auth.json", "codex"],
        ["claude-credentials.json", "claude"],
        ["copilot-apps.json", "copilot"],
        ["opencode-auth.json", "codex"],
      ] as const
    ) {
      const res = await env.admin("POST", `/accounts/${provider}/import`, await fixture(file));
      assert.equal(res.status, 200);
    }
    const start = await env.admin("POST", "/accounts/copilot/oauth/start", {});
    env.fakes.github.approve(start.json.userCode, { userId: 4711 });
    env.deps.clock.advance(6_000);
    const done = await env.admin("POST", "/accounts/copilot/oauth/complete", {
      flowId: start.json.flowId,
    });
    assert.equal(done.json.status, "complete");
    const flow = await env.admin("POST", "/accounts/codex/oauth/start", {});
    assert.equal(flow.status, 200);
    for (const account of await listAccounts(kv)) {
      env.deps.clock.advance(6_000);
      await refreshTokens(env.deps, account.id, { force: true });
    }
    const tokens = allTokens(env.fakes.world);
    assert.ok(tokens.length >= 12);
    const bytesOpen = await assertNoTokenAtRest(path, tokens);
    assert.ok(bytesOpen > 0);
    kv.close();
    await assertNoTokenAtRest(path, tokens);
  } finally {
    try {
      kv.close();
    } catch {
      // already closed
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("assertNoTokenAtRest() finds a token stored in clear (the check can fail)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kleis-rest-probe-" });
  const kv = await openKv(`${dir}/kleis.db`);
  try {
    const token = "rt_probe_0123456789abcdefghijklmnopqrstuv";
    await kv.set(["probe"], { token });
    await assert.rejects(() => assertNoTokenAtRest(`${dir}/kleis.db`, [token]), /in clear/);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

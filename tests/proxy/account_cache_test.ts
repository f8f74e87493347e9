import assert from "node:assert/strict";
import {
  ACCOUNT_CACHE_TTL_MS,
  AccountCache,
  type AccountSource,
  sharedAccountCache,
} from "../../src/accounts/account_cache.ts";
import {
  getPrimaryAccountId,
  listAccounts,
  patchAccount,
  saveLogin,
} from "../../src/accounts/repository.ts";
import type { AccountRecord } from "../../src/model/accounts.ts";
import { keys } from "../../src/kv/keys.ts";
import type { ProviderId } from "../../src/model/providers.ts";
import { type TestDeps, testDeps } from "../support/test_deps.ts";

let counter = 0;
async function addCodex(deps: TestDeps): Promise<AccountRecord> {
  const n = ++counter;
  const { account } = await saveLogin(deps, "codex", {
    tokens: { accessToken: `token-${n}` },
    identity: { externalId: `user-${n}`, label: `codex ${n}` },
  }, { source: "test" });
  return account;
}

/** Reads the repository, counting reads (and holding them while `gate` is pending). */
function countingSource(deps: TestDeps, gate?: Promise<void>) {
  const calls: ProviderId[] = [];
  const source: AccountSource = {
    async listAccounts(kv, provider) {
      calls.push(provider);
      await gate;
      return await listAccounts(kv, provider);
    },
    getPrimaryAccountId,
  };
  return { calls, cache: new AccountCache(deps, source) };
}

Deno.test("AccountCache", async (t) => {
  await t.step("serves one KV read for the TTL, measured with the injected clock", async () => {
    await using deps = await testDeps();
    await addCodex(deps);
    const { calls, cache } = countingSource(deps);
    const first = await cache.get("codex");
    assert.equal(first.accounts.length, 1);
    deps.clock.advance(ACCOUNT_CACHE_TTL_MS - 1);
    assert.equal(await cache.get("codex"), first, "the same object within the TTL");
    assert.equal(calls.length, 1);
    deps.clock.advance(1);
    await cache.get("codex");
    assert.equal(calls.length, 2, "read again once the TTL has passed");
  });

  await t.step("a write another instance made shows up within the TTL, not before", async () => {
    await using deps = await testDeps();
    const account = await addCodex(deps);
    const cache = sharedAccountCache(deps);
    assert.equal((await cache.get("codex")).accounts[0]!.enabled, true);
    // Behind this process's back, as another instance sharing the database would write it.
    await deps.kv.set(keys.account(account.id), { ...account, enabled: false });
    assert.equal((await cache.get("codex")).accounts[0]!.enabled, true, "still the cached copy");
    deps.clock.advance(ACCOUNT_CACHE_TTL_MS);
    assert.equal((await cache.get("codex")).accounts[0]!.enabled, false);
  });

  await t.step("a write committed in this process shows up at once, clock frozen", async () => {
    await using deps = await testDeps();
    const cache = sharedAccountCache(deps);
    assert.deepEqual((await cache.get("codex")).accounts, []);
    const account = await addCodex(deps);
    const after = await cache.get("codex");
    assert.deepEqual(after.accounts.map((a) => a.id), [account.id]);
    assert.equal(after.primaryId, account.id);
    await patchAccount(deps, account.id, { enabled: false });
    const disabled = await cache.get("codex");
    assert.equal(disabled.accounts[0]!.enabled, false);
    assert.equal(disabled.primaryId, undefined);
  });

  await t.step("invalidate() and a clock going backwards both force a read", async () => {
    await using deps = await testDeps();
    const { calls, cache } = countingSource(deps);
    await cache.get("claude");
    cache.invalidate();
    await cache.get("claude");
    assert.equal(calls.length, 2);
    deps.clock.advance(-1);
    await cache.get("claude");
    assert.equal(calls.length, 3);
  });

  await t.step("concurrent readers of an expired entry share one read", async () => {
    await using deps = await testDeps();
    await addCodex(deps);
    let open!: () => void;
    const { calls, cache } = countingSource(deps, new Promise((r) => open = r));
    const readers = Array.from({ length: 20 }, () => cache.get("codex"));
    open();
    const results = await Promise.all(readers);
    assert.equal(calls.length, 1);
    assert.ok(results.every((r) => r === results[0]));
  });

  await t.step("a read begun before an invalidate() is not joined by later readers", async () => {
    await using deps = await testDeps();
    let open!: () => void;
    const { calls, cache } = countingSource(deps, new Promise((r) => open = r));
    const early = cache.get("codex");
    cache.invalidate();
    const late = cache.get("codex");
    open();
    await Promise.all([early, late]);
    assert.equal(calls.length, 2);
  });

  await t.step("all() gives every provider; one cache per app (runtime)", async () => {
    await using deps = await testDeps();
    await addCodex(deps);
    const all = await sharedAccountCache(deps).all();
    assert.deepEqual(Object.keys(all).sort(), ["claude", "codex", "copilot"]);
    assert.equal(all.codex.accounts.length, 1);
    assert.equal(sharedAccountCache(deps), sharedAccountCache({ ...deps, now: Date.now }));
    await using other = await testDeps();
    assert.notEqual(sharedAccountCache(other), sharedAccountCache(deps));
  });
});

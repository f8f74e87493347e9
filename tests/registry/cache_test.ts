import assert from "node:assert/strict";
import { type KeyScope, modelsForKey } from "../../src/registry/service.ts";
import { getRegistrySnapshot, POINTER_RECHECK_MS } from "../../src/registry/snapshot.ts";
import { storeRegistry, validateRegistry } from "../../src/registry/models_dev.ts";
import { FakeWorld } from "../fakes/world.ts";
import { startFakeCopilot } from "../fakes/copilot.ts";
import { modelsDevRegistry } from "../fakes/models_dev.ts";
import { testClock, testDeps } from "../support/test_deps.ts";
import { ACCOUNT_CACHE_TTL_MS } from "../../src/accounts/account_cache.ts";
import { addAccount, cacheModelsDev, copilotAt } from "./support.ts";
import { openKv } from "../../src/kv/open.ts";

const offline = () => Promise.reject(new TypeError("offline"));

/** A KV handle that counts the reads made through it. */
function countingKv(kv: Deno.Kv) {
  const reads = { count: 0 };
  const counted = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "get" || prop === "getMany" || prop === "list") reads.count++;
        return value.apply(target, args);
      };
    },
  });
  return { kv: counted, reads };
}

Deno.test("the model lists read no KV per request once warm", async (t) => {
  const world = new FakeWorld();
  const copilot = await startFakeCopilot(world);
  const raw = await Deno.openKv(":memory:");
  const { kv, reads } = countingKv(raw);
  try {
    await using deps = await testDeps({ kv, config: copilotAt(copilot.url) });
    await cacheModelsDev(deps);
    await addAccount(deps, "codex");
    await addAccount(deps, "claude");
    const copilotAccount = await addAccount(deps, "copilot", {
      accessToken: world.issueCopilotToken(),
    });
    const scopes: KeyScope[] = [
      {},
      { providers: ["claude"] },
      { models: ["gpt-5*"] },
      { accounts: { copilot: copilotAccount.id } },
    ];
    const warm = await Promise.all(scopes.map((s) => modelsForKey(deps, s)));

    await t.step("repeated requests within a second make no KV read", async () => {
      reads.count = 0;
      for (let i = 0; i < 20; i++) {
        const again = await Promise.all(scopes.map((s) => modelsForKey(deps, s)));
        assert.deepEqual(again, warm);
      }
      assert.equal(reads.count, 0);
    });

    await t.step("after a second, one re-check per cached item, same answer", async () => {
      deps.clock.advance(POINTER_RECHECK_MS);
      reads.count = 0;
      const again = await Promise.all(scopes.map((s) => modelsForKey(deps, s)));
      assert.deepEqual(again, warm);
      // The pointer, three providers' lists and primaries, the Copilot account's copy.
      assert.ok(reads.count > 0 && reads.count <= 8, `${reads.count} reads`);
    });

    await t.step("a scope gets the same frozen list while nothing changes", async () => {
      const a = await modelsForKey(deps, { models: ["gpt-5*"] });
      const b = await modelsForKey(deps, { models: ["gpt-5*"] });
      assert.equal(a, b);
      assert.ok(Object.isFrozen(a));
      assert.notEqual(await modelsForKey(deps, { models: ["claude-*"] }), a);
      // An account write reloads the accounts; the offers, hence the list, stay the same.
      const before = await modelsForKey(deps, {});
      await addAccount(deps, "claude", { enabled: false });
      assert.equal(await modelsForKey(deps, {}), before);
    });
    await deps.runtime.settled();
  } finally {
    raw.close();
    await copilot.close();
  }
});

Deno.test("what this process writes is used at once, another instance's within a second", async (t) => {
  const dir = await Deno.makeTempDir();
  const kvA = await openKv(`${dir}/kleis.db`);
  const kvB = await openKv(`${dir}/kleis.db`);
  try {
    const clock = testClock();
    await using a = await testDeps({ kv: kvA, clock, fetch: offline });
    await using b = await testDeps({ kv: kvB, clock, fetch: offline });

    await t.step("an account added here is listed on the next request, clock frozen", async () => {
      assert.deepEqual(await modelsForKey(a, {}), []);
      await addAccount(a, "claude");
      assert.ok((await modelsForKey(a, {})).length > 0);
    });

    await t.step("a registry stored here is used on the next request", async () => {
      assert.equal((await getRegistrySnapshot(a)).source, "bundled");
      await cacheModelsDev(a);
      assert.equal((await getRegistrySnapshot(a)).source, "models.dev");
    });

    await t.step("instance B uses a registry A stores after POINTER_RECHECK_MS", async () => {
      const before = await getRegistrySnapshot(b); // B's view is now cached
      assert.equal(before.source, "models.dev");
      clock.advance(10);
      const stored = await storeRegistry(a, validateRegistry(modelsDevRegistry()), clock.now());
      assert.equal((await getRegistrySnapshot(b)).fetchedAt, before.fetchedAt, "not yet");
      clock.advance(POINTER_RECHECK_MS);
      assert.equal((await getRegistrySnapshot(b)).fetchedAt, stored.fetchedAt);
    });

    await t.step("instance B lists an account A adds within ACCOUNT_CACHE_TTL_MS", async () => {
      assert.ok(!(await modelsForKey(b, {})).some((m) => m.provider === "codex"));
      await addAccount(a, "codex");
      clock.advance(ACCOUNT_CACHE_TTL_MS);
      assert.ok((await modelsForKey(b, {})).some((m) => m.provider === "codex"));
    });
    await a.runtime.settled();
    await b.runtime.settled();
  } finally {
    kvA.close();
    kvB.close();
    await Deno.remove(dir, { recursive: true });
  }
});

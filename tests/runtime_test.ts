/**
 * The per-app runtime (src/runtime.ts): every app built by createDeps() keeps
 * its own caches, so two apps in one process, even on one KV handle, behave
 * as two instances would.
 */
import assert from "node:assert/strict";
import { Runtime, runtimeSlot } from "../src/runtime.ts";
import { createApp } from "../src/app.ts";
import { keys } from "../src/kv/keys.ts";
import { acquireKeyLimits } from "../src/keys/limits.ts";
import { blockSize } from "../src/keys/limiter.ts";
import { getApiKey } from "../src/keys/repository.ts";
import { ACCOUNT_CACHE_TTL_MS, sharedAccountCache } from "../src/accounts/account_cache.ts";
import { getRegistrySnapshot, POINTER_RECHECK_MS } from "../src/registry/snapshot.ts";
import { testClock, testDeps } from "./support/test_deps.ts";
import { addAccount, cacheModelsDev } from "./registry/support.ts";
import { createKey } from "./keys/helpers.ts";

const offline = () => Promise.reject(new TypeError("offline"));

Deno.test("Runtime", async (t) => {
  await t.step("a slot's state is created once per runtime, on first use", () => {
    let created = 0;
    const slot = runtimeSlot("test.counter", () => ({ n: ++created }));
    const one = new Runtime();
    const two = new Runtime();
    assert.equal(created, 0);
    assert.equal(one.get(slot), one.get(slot));
    assert.equal(created, 1);
    assert.notEqual(two.get(slot), one.get(slot));
    assert.deepEqual([one.get(slot).n, two.get(slot).n], [1, 2]);
  });

  await t.step("settled() waits for tracked work, including work tracked meanwhile", async () => {
    const runtime = new Runtime();
    const done: string[] = [];
    runtime.track(
      new Promise<void>((resolve) => setTimeout(resolve, 5)).then(() => {
        done.push("first");
        runtime.track(new Promise<void>((resolve) => setTimeout(resolve, 5)).then(() => {
          done.push("second");
        }));
      }),
    );
    runtime.track(Promise.reject(new Error("failed work is waited for, not thrown")));
    await runtime.settled();
    assert.deepEqual(done, ["first", "second"]);
  });
});

Deno.test("two apps in one process on one KV handle share no cache", async (t) => {
  const kv = await Deno.openKv(":memory:");
  try {
    const clock = testClock();
    await using a = await testDeps({ kv, clock, fetch: offline });
    await using b = await testDeps({ kv, clock, fetch: offline });
    const appA = createApp(a);

    await t.step("each app has its own runtime", () => {
      assert.notEqual(a.runtime, b.runtime);
      assert.notEqual(sharedAccountCache(a), sharedAccountCache(b));
    });

    await t.step("an account A adds: A sees it at once, B after its cache TTL", async () => {
      assert.equal((await sharedAccountCache(b).get("claude")).accounts.length, 0);
      await addAccount(a, "claude");
      assert.equal((await sharedAccountCache(a).get("claude")).accounts.length, 1);
      assert.equal((await sharedAccountCache(b).get("claude")).accounts.length, 0, "not yet");
      clock.advance(ACCOUNT_CACHE_TTL_MS);
      assert.equal((await sharedAccountCache(b).get("claude")).accounts.length, 1);
    });

    await t.step("a registry A stores: A uses it at once, B after POINTER_RECHECK_MS", async () => {
      assert.equal((await getRegistrySnapshot(b)).source, "bundled");
      await cacheModelsDev(a);
      assert.equal((await getRegistrySnapshot(a)).source, "models.dev");
      assert.equal((await getRegistrySnapshot(b)).source, "bundled", "not yet");
      clock.advance(POINTER_RECHECK_MS);
      assert.equal((await getRegistrySnapshot(b)).source, "models.dev");
    });

    await t.step("admissions A reserved ahead are not spent by B", async () => {
      const limit = 10_000;
      const { key } = await createKey(appA, a, {
        label: "blocks",
        limits: { requestsPerMinute: limit },
      });
      const record = (await getApiKey(kv, key.id))!;
      const counter = async () =>
        (await kv.get<number>(keys.requestsInMinute(key.id, Math.floor(clock.now() / 60_000))))
          .value;
      await acquireKeyLimits(a, record);
      const afterA = 1 + blockSize(limit - 1);
      assert.equal(await counter(), afterA);
      await acquireKeyLimits(a, record); // from A's block: no write
      assert.equal(await counter(), afterA);
      await acquireKeyLimits(b, record); // B holds no block: it counts in KV
      assert.equal(await counter(), afterA + 1 + blockSize(limit - afterA - 1));
    });

    await a.runtime.settled();
    await b.runtime.settled();
  } finally {
    kv.close();
  }
});

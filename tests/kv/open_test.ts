import assert from "node:assert/strict";
import { isLockedError, openKv, retryWhenLocked } from "../../src/kv/open.ts";

/** 200 checked commits split over two handles of one file; returns how many failed. */
async function racingCommits(a: Deno.Kv, b: Deno.Kv): Promise<number> {
  let failed = 0;
  await Promise.all(Array.from({ length: 200 }, async (_, i) => {
    try {
      const result = await (i % 2 ? a : b).atomic()
        .check({ key: ["item", i], versionstamp: null })
        .set(["item", i], i)
        .sum(["count"], 1n)
        .commit();
      if (!result.ok) failed++;
    } catch (error) {
      if (!isLockedError(error)) throw error;
      failed++;
    }
  }));
  return failed;
}

/**
 * A real in-memory KV whose writes refuse with SQLite's "database is locked"
 * the first `refusals` times, as a local file shared by two handles does when
 * they race (whether a real race happens depends on timing, so the tests
 * inject it instead).
 */
function lockedAtFirst(kv: Deno.Kv, refusals: number, error = new Error("database is locked")) {
  const counts = { commits: 0, sets: 0 };
  const refuse = () => {
    if (refusals > 0) {
      refusals--;
      throw error;
    }
  };
  const handle = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const chained: Deno.AtomicOperation = new Proxy(op, {
            get(opTarget, opProp) {
              const value = Reflect.get(opTarget, opProp, opTarget);
              if (opProp === "commit") {
                return async () => {
                  counts.commits++;
                  refuse();
                  return await opTarget.commit();
                };
              }
              if (typeof value !== "function") return value;
              return (...args: unknown[]) => {
                value.apply(opTarget, args);
                return chained;
              };
            },
          });
          return chained;
        };
      }
      if (prop === "set") {
        return async (...args: Parameters<Deno.Kv["set"]>) => {
          counts.sets++;
          refuse();
          return await target.set(...args);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: handle, counts };
}

Deno.test("openKv() retries writes SQLite refuses with 'database is locked'", async (t) => {
  await t.step("a checked commit refused three times is rebuilt and commits once", async () => {
    const memory = await Deno.openKv(":memory:");
    try {
      const { kv, counts } = lockedAtFirst(memory, 3);
      const result = await retryWhenLocked(kv).atomic()
        .check({ key: ["item"], versionstamp: null })
        .set(["item"], "value")
        .sum(["count"], 1n)
        .commit();
      assert.equal(result.ok, true);
      assert.equal(counts.commits, 4);
      assert.equal((await memory.get(["item"])).value, "value");
      assert.equal((await memory.get<Deno.KvU64>(["count"])).value?.value, 1n);
    } finally {
      memory.close();
    }
  });

  await t.step("without the wrapper the same refusal reaches the caller", async () => {
    const memory = await Deno.openKv(":memory:");
    try {
      const { kv } = lockedAtFirst(memory, 1);
      await assert.rejects(kv.atomic().set(["item"], 1).commit(), /database is locked/);
      assert.equal((await memory.get(["item"])).value, null);
    } finally {
      memory.close();
    }
  });

  await t.step("a plain set is retried too", async () => {
    const memory = await Deno.openKv(":memory:");
    try {
      const { kv, counts } = lockedAtFirst(memory, 2);
      await retryWhenLocked(kv).set(["item"], 7);
      assert.equal(counts.sets, 3);
      assert.equal((await memory.get(["item"])).value, 7);
    } finally {
      memory.close();
    }
  });

  await t.step("other errors are not retried", async () => {
    const memory = await Deno.openKv(":memory:");
    try {
      const { kv, counts } = lockedAtFirst(memory, 5, new Error("disk I/O error"));
      await assert.rejects(retryWhenLocked(kv).atomic().set(["item"], 1).commit(), /disk I\/O/);
      assert.equal(counts.commits, 1);
    } finally {
      memory.close();
    }
  });

  await t.step(
    "two openKv() handles on one file commit every one of 200 racing writes",
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "kleis-open-kv-" });
      const a = await openKv(`${dir}/kleis.db`);
      const b = await openKv(`${dir}/kleis.db`);
      try {
        assert.equal(await racingCommits(a, b), 0);
        assert.equal((await a.get<Deno.KvU64>(["count"])).value?.value, 200n);
      } finally {
        a.close();
        b.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
});

import assert from "node:assert/strict";
import { isLockedError, openKv } from "../../src/kv/open.ts";

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

Deno.test("openKv() retries writes SQLite refuses with 'database is locked'", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "kleis-open-kv-" });
  try {
    await t.step("two raw handles on one file do refuse checked commits", async () => {
      const a = await Deno.openKv(`${dir}/raw.db`);
      const b = await Deno.openKv(`${dir}/raw.db`);
      try {
        assert.ok(await racingCommits(a, b) > 0, "the race this module guards against");
      } finally {
        a.close();
        b.close();
      }
    });

    await t.step("two openKv() handles commit every one of them", async () => {
      const a = await openKv(`${dir}/kleis.db`);
      const b = await openKv(`${dir}/kleis.db`);
      try {
        assert.equal(await racingCommits(a, b), 0);
        assert.equal((await a.get<Deno.KvU64>(["count"])).value?.value, 200n);
      } finally {
        a.close();
        b.close();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

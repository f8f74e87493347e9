import assert from "node:assert/strict";
import { FreshKeyReads } from "../../src/auth/fresh_key_reads.ts";
import { keys } from "../../src/kv/keys.ts";
import type { ApiKeyRecord } from "../../src/model/keys.ts";

const ID = "key-1";
const record = (extra: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id: ID,
  label: "test",
  hash: "0".repeat(64),
  prefix: "kleis_000000",
  createdAt: 1,
  updatedAt: 1,
  discoveryToken: "t",
  ...extra,
});

/**
 * A KV whose reads take their snapshot when called (as a real read does when
 * it starts) but answer only when the test releases them, in order.
 */
function heldKv(kv: Deno.Kv) {
  const held: { release: () => void; fail: (e: Error) => void }[] = [];
  const wrapper = {
    get(key: Deno.KvKey) {
      const snapshot = kv.get(key);
      return new Promise((resolve, reject) => {
        held.push({
          release: () => resolve(snapshot),
          fail: (error) => reject(error),
        });
      });
    },
  } as unknown as Deno.Kv;
  return {
    kv: wrapper,
    /** Reads started so far. */
    get started() {
      return held.length;
    },
    release: (i: number) => held[i]!.release(),
    fail: (i: number, error: Error) => held[i]!.fail(error),
  };
}

/** A memory KV (holding the active record unless `empty`), its held view and a reader over it. */
async function setup(options: { empty?: boolean } = {}) {
  const kv = await Deno.openKv(":memory:");
  if (!options.empty) await kv.set(keys.apiKey(ID), record());
  const held = heldKv(kv);
  return { kv, held, reads: new FreshKeyReads(held.kv), [Symbol.dispose]: () => kv.close() };
}

/** Lets queued promise callbacks (and the KV's own snapshot) run. */
const settle = () => new Promise((r) => setTimeout(r, 5));

Deno.test("fresh key reads", async (t) => {
  await t.step("a read that began before a request never answers it", async () => {
    using env = await setup();
    const { kv, held, reads } = env;

    const before = reads.read(ID);
    await settle();
    assert.equal(held.started, 1);
    // Revoked (say by another instance) while the first read is in flight.
    await kv.set(keys.apiKey(ID), record({ revokedAt: 2 }));
    const after = reads.read(ID);
    await settle();
    assert.equal(held.started, 1, "the later request waits for a read of its own");

    held.release(0);
    assert.equal((await before)?.revokedAt, undefined);
    await settle();
    assert.equal(held.started, 2, "the next read starts when the first ends");
    held.release(1);
    assert.equal((await after)?.revokedAt, 2, "the request that came after the revocation sees it");
  });

  await t.step(
    "requests arriving during a read share the next one (and its record object)",
    async () => {
      using env = await setup();
      const { held, reads } = env;

      const first = reads.read(ID);
      await settle();
      const waiting = [reads.read(ID), reads.read(ID), reads.read(ID)];
      held.release(0);
      await first;
      await settle();
      held.release(1);
      const records = await Promise.all(waiting);
      assert.equal(held.started, 2, "four requests, two reads");
      assert.deepEqual(records[0], record());
      assert.equal(records[0], records[1], "one read, one record object: nothing is copied");
      assert.equal(records[1], records[2]);
    },
  );

  await t.step("a failed read fails only its own callers; the next read still starts", async () => {
    using env = await setup();
    const { held, reads } = env;

    const first = reads.read(ID);
    await settle();
    const second = reads.read(ID);
    held.fail(0, new Error("KV unavailable"));
    await assert.rejects(first, /KV unavailable/);
    await settle();
    held.release(1);
    assert.deepEqual(await second, record());
  });

  await t.step("when nothing is in flight a request starts its read at once", async () => {
    using env = await setup({ empty: true });
    const { held, reads } = env;

    const missing = reads.read(ID);
    await settle();
    held.release(0);
    assert.equal(await missing, null);
    await settle();
    const again = reads.read(ID);
    await settle();
    assert.equal(held.started, 2, "started without waiting for anything");
    held.release(1);
    assert.equal(await again, null);
  });
});

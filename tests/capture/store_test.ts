/**
 * The capture store on its own: two instances writing for one key at once
 * keep the count cap without losing or orphaning anything, and bodies at
 * the largest cap (more than one commit's worth) read back whole.
 */
import assert from "node:assert/strict";
import type { Config } from "../../src/config.ts";
import { keys } from "../../src/kv/keys.ts";
import {
  type CaptureRecord,
  getCapture,
  listCaptures,
  removeAllCaptures,
  saveCapture,
} from "../../src/capture/store.ts";
import { timeOrderedId } from "../../src/crypto.ts";
import { testDeps } from "../support/test_deps.ts";

const capture = (maxPerKey: number, maxBodyBytes = 4096) =>
  ({
    capture: Object.freeze({ retentionMs: 3_600_000, maxBodyBytes, maxPerKey }),
  }) as Partial<Config>;

function record(at: number, keyId = "key_1") {
  return {
    id: timeOrderedId(at),
    keyId,
    requestId: `req_${at}`,
    at,
    durationMs: 5,
    expiresAt: at + 3_600_000,
    endpoint: "/v1/messages",
    provider: "claude",
    model: "m",
    accountId: "acct",
    client: "",
    userAgent: "",
    attempts: 1,
    upstream: {
      method: "POST",
      url: "https://backend.example/v1/messages",
      headers: [] as [string, string][],
      body: { bytes: 3, truncated: false },
    },
    answer: {
      status: 200,
      headers: [] as [string, string][],
      body: { bytes: 3, truncated: false },
      outcome: "completed" as const,
    },
  } satisfies Omit<CaptureRecord, "upstream" | "answer"> & Record<string, unknown>;
}

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("two instances writing captures of one key at once keep the cap and lose nothing", async () => {
  const kv = await Deno.openKv(":memory:");
  await using one = await testDeps({ kv, config: capture(8) });
  await using two = await testDeps({ kv, config: capture(8), clock: one.clock });
  const base = one.now();
  const written = Array.from({ length: 24 }, (_, i) => record(base + i));
  await Promise.all(
    written.map((r, i) =>
      saveCapture(i % 2 ? two : one, r, { request: text("req"), answer: text(`answer ${i}`) })
    ),
  );
  const listed = await listCaptures(one, "key_1");
  assert.equal(listed.length, 8);
  const index = (await kv.get<{ id: string }[]>(keys.captureIndex("key_1"))).value!;
  assert.equal(index.length, 8);
  assert.deepEqual(new Set(index.map((e) => e.id)), new Set(listed.map((c) => c.id)));
  // Nothing beyond the eight is left behind: no record, no body part.
  const records = await Array.fromAsync(kv.list({ prefix: keys.capturesOf("key_1") }));
  assert.equal(records.length, 8);
  const parts = await Array.fromAsync(kv.list({ prefix: keys.captureBodiesOf("key_1") }));
  assert.equal(parts.length, 16);
  const one1 = await getCapture(one, "key_1", listed[0]!.id);
  assert.match(one1!.answerBody, /^answer \d+$/);
  assert.equal(await removeAllCaptures(one, "key_1"), 8);
  assert.equal(
    (await Array.fromAsync(kv.list({ prefix: keys.captureBodiesOf("key_1") }))).length,
    0,
  );
  assert.equal((await kv.get(keys.captureIndex("key_1"))).versionstamp, null);
  kv.close();
});

Deno.test("bodies at the largest cap are written in several commits and read back whole", async () => {
  await using deps = await testDeps({ config: capture(4, 1024 * 1024) });
  const big = "é".repeat(400_000); // 800 000 bytes of two-byte characters
  const r = record(deps.now());
  await saveCapture(deps, r, { request: text(big), answer: text(big + "!") });
  const view = await getCapture(deps, "key_1", r.id);
  assert.equal(view!.requestBody, big);
  assert.equal(view!.answerBody, big + "!");
  assert.equal(view!.upstream!.body.parts, Math.ceil(800_000 / 60_000));
});

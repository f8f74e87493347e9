import assert from "node:assert/strict";
import { keys } from "../../src/kv/keys.ts";
import { handleUsageMessage, startUsageConsumer } from "../../src/usage/consumer.ts";
import { aggregateEvents, type UsageBatch, usageMessage } from "../../src/usage/ingest.ts";
import { getLastUsed } from "../../src/usage/last_used.ts";
import { queryUsage } from "../../src/usage/query.ts";
import { flushUsage, recordRefusal, recordUsage } from "../../src/usage/record.ts";
import { tokensUsedOn } from "../../src/usage/token_budget.ts";
import { usageRetentionJob } from "../../src/jobs/usage_retention.ts";
import { testDeps } from "../support/test_deps.ts";
import {
  expectedCounters,
  failingKv,
  ingestEvents,
  syntheticEvents,
  waitForRequests,
} from "./helpers.ts";

const HOUR = 3_600_000;

function batches(events: ReturnType<typeof syntheticEvents>, size: number): UsageBatch[] {
  const out: UsageBatch[] = [];
  for (let i = 0; i < events.length; i += size) {
    out.push({ id: `batch_${i}`, deltas: aggregateEvents(events.slice(i, i + size)) });
  }
  return out;
}

Deno.test("delivering every queue message a second time changes no total", async () => {
  const kv = await Deno.openKv(":memory:");
  await using deps = await testDeps({ kv });
  const events = syntheticEvents(400, deps.now(), 40 * 60_000);
  let handled = 0;
  const listener = kv.listenQueue(async (message) => {
    await handleUsageMessage(deps, message);
    handled++;
  });
  const all = batches(events, 50);
  for (const batch of [...all, ...all]) await kv.enqueue(usageMessage(batch));
  const deadline = Date.now() + 10_000;
  while (handled < all.length * 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(handled, all.length * 2);
  const answer = await queryUsage(deps, { windowMs: HOUR });
  assert.deepEqual(answer.totals, expectedCounters(events));
  const key0 = events.filter((e) => e.keyId === "key_alpha");
  const tokens = key0.reduce(
    (s, e) => s + e.inputTokens + e.outputTokens + e.cacheReadTokens + e.cacheWriteTokens,
    0,
  );
  assert.equal(await tokensUsedOn(kv, "key_alpha", deps.now()), tokens);
  kv.close();
  await listener;
});

Deno.test("a consumer that throws midway through a batch loses nothing once the queue redelivers", async () => {
  const kv = await Deno.openKv(":memory:");
  await using deps = await testDeps({ kv });
  // 3 keys x 2 accounts x 3 models over many minutes: far more than one chunk per batch.
  const events = syntheticEvents(300, deps.now(), 30 * 60_000);
  let faults = 0;
  let commits = 0;
  const consumer = startUsageConsumer(deps, {
    beforeCommit: (chunk) => {
      // Fail after the first chunk has committed, once per batch (first delivery only).
      if (chunk === 1 && faults < 3) {
        faults++;
        throw new Error("injected consumer fault");
      }
      commits++;
    },
  });
  for (const batch of batches(events, 100)) {
    await kv.enqueue(usageMessage(batch), { backoffSchedule: [200] });
  }
  await waitForRequests(deps, 300, HOUR, 15_000);
  // Let any extra (wrong) redelivery land before comparing.
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(faults, 3);
  assert.ok(commits > 3);
  assert.deepEqual((await queryUsage(deps, { windowMs: HOUR })).totals, expectedCounters(events));
  kv.close();
  await consumer;
});

Deno.test("ingestUsage() of the same batch twice counts it once, including day tokens and last use", async () => {
  await using deps = await testDeps();
  const events = syntheticEvents(120, deps.now(), 20 * 60_000);
  await ingestEvents(deps, "b1", events);
  const tokens = await tokensUsedOn(deps.kv, "key_beta", deps.now());
  await ingestEvents(deps, "b1", events);
  assert.deepEqual((await queryUsage(deps, { windowMs: HOUR })).totals, expectedCounters(events));
  assert.equal(await tokensUsedOn(deps.kv, "key_beta", deps.now()), tokens);
  const latest = Math.max(...events.filter((e) => e.accountId === "acct_claude").map((e) => e.at));
  assert.equal(await getLastUsed(deps.kv, "account", "acct_claude"), latest);
  assert.equal(await getLastUsed(deps.kv, "key", "never_used"), undefined);
});

Deno.test("recordUsage() writes directly when enqueueing fails", async () => {
  const kv = await Deno.openKv(":memory:");
  await using deps = await testDeps({ kv: failingKv(kv, ["enqueue"]) });
  const events = syntheticEvents(150, deps.now(), 10 * 60_000);
  for (const e of events) await recordUsage(deps, e);
  await flushUsage(deps);
  assert.deepEqual((await queryUsage(deps, { windowMs: HOUR })).totals, expectedCounters(events));
  assert.ok(deps.logLines.some((l) => l.includes("Could not enqueue usage")));
  kv.close();
});

Deno.test("recordUsage() logs every event when KV is down, and never throws", async () => {
  const kv = await Deno.openKv(":memory:");
  await using deps = await testDeps({ kv: failingKv(kv, ["enqueue", "atomic", "getMany"]) });
  const events = syntheticEvents(5, deps.now(), 60_000);
  for (const e of events) await recordUsage(deps, e);
  await flushUsage(deps);
  const lost = deps.logLines.filter((l) => l.includes("Usage event could not be stored"));
  assert.equal(lost.length, 5);
  for (const e of events) assert.ok(lost.some((l) => l.includes(`"id":"${e.id}"`)));
  kv.close();
});

Deno.test("with a KV Connect database (no queues), recordUsage() ingests directly", async () => {
  await using deps = await testDeps({ config: { kvPath: "https://kv.example.test/db" } });
  const events = syntheticEvents(80, deps.now(), 10 * 60_000);
  for (const e of events) await recordUsage(deps, e);
  await flushUsage(deps);
  // No consumer runs here: the totals can only come from direct writes.
  assert.deepEqual((await queryUsage(deps, { windowMs: HOUR })).totals, expectedCounters(events));
});

Deno.test("recordRefusal() counts a refused request for its key as a Kleis-side failure", async () => {
  await using deps = await testDeps({ config: { kvPath: "https://kv.example.test/db" } });
  await recordRefusal(deps, {
    requestId: "r1",
    keyId: "key_alpha",
    endpoint: "/openai/v1/responses",
    status: 429,
  });
  await recordRefusal(deps, {
    requestId: "r2",
    keyId: "key_alpha",
    endpoint: "/v1/messages",
    status: 403,
  });
  await flushUsage(deps);
  const answer = await queryUsage(deps, {
    windowMs: HOUR,
    keyId: "key_alpha",
    groupBy: "endpoint",
  });
  assert.equal(answer.totals.requests, 2);
  assert.equal(answer.totals.proxyErrors, 2);
  assert.equal(answer.totals.status429, 1);
  assert.equal(answer.totals.status4xx, 2);
  assert.equal(answer.groups?.length, 2);
  assert.equal(await getLastUsed(deps.kv, "key", "key_alpha"), deps.now());
});

Deno.test("the retention job ingests batches the queue gave up on, once", async () => {
  await using deps = await testDeps();
  const events = syntheticEvents(30, deps.now(), 10 * 60_000);
  const batch = { id: "parked", deltas: aggregateEvents(events) };
  await deps.kv.set(keys.usageUndelivered(batch.id), usageMessage(batch));
  await usageRetentionJob(deps);
  await usageRetentionJob(deps);
  assert.deepEqual((await queryUsage(deps, { windowMs: HOUR })).totals, expectedCounters(events));
  assert.equal((await deps.kv.get(keys.usageUndelivered(batch.id))).versionstamp, null);
});

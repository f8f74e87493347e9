/**
 * Usage where the KV has no queues (Deno Deploy, KV Connect, or a KV found at
 * run time to refuse them): every event is still counted, written directly.
 */
import assert from "node:assert/strict";
import { queryUsage } from "../../src/usage/query.ts";
import { flushUsage, recordUsage } from "../../src/usage/record.ts";
import { startUsageConsumer } from "../../src/usage/consumer.ts";
import { isQueueUnsupportedError, kvHasQueues, queuesKnownAbsent } from "../../src/kv/queues.ts";
import { testConfig } from "../support/test_config.ts";
import { testDeps } from "../support/test_deps.ts";
import { expectedCounters, syntheticEvents, waitForRequests } from "./helpers.ts";

const HOUR = 3_600_000;
/** The error Deno's KV Connect client raises for an enqueue. */
const KV_CONNECT_ENQUEUE = "Enqueue operations are not supported in KV Connect";

/** A KV whose queue methods are replaced, counting the calls that reach them. */
function queuelessKv(
  kv: Deno.Kv,
  behaviour: {
    enqueue?: "missing" | ((...args: unknown[]) => Promise<Deno.KvCommitResult>);
    listenQueue?: "missing" | ((...args: unknown[]) => Promise<void>);
  },
): { kv: Deno.Kv; calls: { enqueue: number; listenQueue: number } } {
  const calls = { enqueue: 0, listenQueue: 0 };
  const proxy = new Proxy(kv, {
    get(target, property) {
      if (property === "enqueue" || property === "listenQueue") {
        const replacement = behaviour[property];
        if (replacement === "missing") return undefined;
        if (replacement) {
          return (...args: unknown[]) => {
            calls[property]++;
            return replacement(...args);
          };
        }
        const original = Reflect.get(target, property, target) as (...a: unknown[]) => unknown;
        return (...args: unknown[]) => {
          calls[property]++;
          return original.apply(target, args);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: proxy, calls };
}

async function recordAll(deps: Awaited<ReturnType<typeof testDeps>>, n: number, prefix: string) {
  const events = syntheticEvents(n, deps.now(), 10 * 60_000, prefix);
  for (const e of events) await recordUsage(deps, e);
  await flushUsage(deps);
  return events;
}

Deno.test("queuesKnownAbsent(): Deno Deploy and KV Connect have no queues; a file or memory KV may", () => {
  assert.equal(queuesKnownAbsent(testConfig({ onDeploy: true, kvPath: undefined })), true);
  assert.equal(
    queuesKnownAbsent(testConfig({ kvPath: "https://api.deno.com/v2/databases/x/connect" })),
    true,
  );
  assert.equal(queuesKnownAbsent(testConfig({ kvPath: ":memory:" })), false);
  assert.equal(queuesKnownAbsent(testConfig({ kvPath: "./data/kleis.db" })), false);
});

Deno.test("isQueueUnsupportedError(): says no-queue errors from passing failures", () => {
  assert.equal(isQueueUnsupportedError(new Error(KV_CONNECT_ENQUEUE)), true);
  assert.equal(isQueueUnsupportedError(new TypeError("kv.enqueue is not a function")), true);
  assert.equal(
    isQueueUnsupportedError(new Error("Queues are not available on this platform")),
    true,
  );
  assert.equal(isQueueUnsupportedError(new Error("database is locked")), false);
  assert.equal(isQueueUnsupportedError(new Error("injected enqueue failure")), false);
  assert.equal(isQueueUnsupportedError("not an error"), false);
});

Deno.test("on Deno Deploy, usage never touches the queue and every event is counted", async () => {
  const real = await Deno.openKv(":memory:");
  const { kv, calls } = queuelessKv(real, {});
  await using deps = await testDeps({ kv, config: { onDeploy: true, kvPath: undefined } });
  assert.equal(kvHasQueues(deps), false);
  const events = await recordAll(deps, 120, "deploy");
  assert.deepEqual((await queryUsage(deps, { windowMs: HOUR })).totals, expectedCounters(events));
  assert.deepEqual(calls, { enqueue: 0, listenQueue: 0 });
  real.close();
});

Deno.test("a KV that refuses enqueue (as KV Connect does) switches to direct writes, said once", async () => {
  const real = await Deno.openKv(":memory:");
  const { kv, calls } = queuelessKv(real, {
    enqueue: () => Promise.reject(new Error(KV_CONNECT_ENQUEUE)),
  });
  await using deps = await testDeps({ kv });
  assert.equal(kvHasQueues(deps), true);
  const first = await recordAll(deps, 50, "first");
  assert.equal(calls.enqueue, 1);
  assert.equal(kvHasQueues(deps), false);
  const second = await recordAll(deps, 50, "second");
  // The second batch went straight to KV: no further enqueue attempt.
  assert.equal(calls.enqueue, 1);
  const totals = (await queryUsage(deps, { windowMs: HOUR })).totals;
  assert.deepEqual(totals, expectedCounters([...first, ...second]));
  const notices = deps.logLines.filter((l) => l.includes("KV queues are not available here"));
  assert.equal(notices.length, 1);
  assert.ok(!deps.logLines.some((l) => l.includes("Could not enqueue usage")));
  real.close();
});

Deno.test("a KV without queue methods: the consumer stands down and usage is written directly", async () => {
  const real = await Deno.openKv(":memory:");
  const { kv } = queuelessKv(real, { enqueue: "missing", listenQueue: "missing" });
  await using deps = await testDeps({ kv });
  assert.equal(kvHasQueues(deps), false);
  // Started anyway (as on a platform not known in advance): it must not throw or hang.
  await startUsageConsumer(deps);
  const events = await recordAll(deps, 40, "nomethods");
  assert.deepEqual((await queryUsage(deps, { windowMs: HOUR })).totals, expectedCounters(events));
  real.close();
});

Deno.test("a listenQueue that throws or fails switches the KV to direct writes", async (t) => {
  for (
    const [name, listen] of [
      ["throws at once", () => {
        throw new Error("listenQueue is not supported here");
      }],
      ["rejects", () => Promise.reject(new Error("queue backend gone"))],
    ] as const
  ) {
    await t.step(name, async () => {
      const real = await Deno.openKv(":memory:");
      const { kv, calls } = queuelessKv(real, { listenQueue: listen as () => Promise<void> });
      await using deps = await testDeps({ kv });
      assert.equal(kvHasQueues(deps), true);
      await startUsageConsumer(deps);
      assert.equal(calls.listenQueue, 1);
      assert.equal(kvHasQueues(deps), false);
      const events = await recordAll(deps, 30, name.replace(" ", "_"));
      assert.equal(calls.enqueue, 0);
      assert.deepEqual(
        (await queryUsage(deps, { windowMs: HOUR })).totals,
        expectedCounters(events),
      );
      assert.ok(deps.logLines.some((l) => l.includes("listenQueue failed")));
      real.close();
    });
  }
});

Deno.test("a passing enqueue failure writes that batch directly and keeps the queue", async () => {
  const kvReal = await Deno.openKv(":memory:");
  let failures = 1;
  let queued = 0;
  const { kv } = queuelessKv(kvReal, {
    enqueue: (...args) => {
      if (failures-- > 0) return Promise.reject(new Error("injected enqueue failure"));
      queued++;
      return kvReal.enqueue(args[0], args[1] as Parameters<Deno.Kv["enqueue"]>[1]);
    },
  });
  await using deps = await testDeps({ kv });
  const consumer = startUsageConsumer(deps);
  const first = await recordAll(deps, 20, "transient1");
  assert.equal(kvHasQueues(deps), true);
  const second = await recordAll(deps, 20, "transient2");
  // The batch after the failure went through the queue again.
  assert.ok(queued >= 1, `queued ${queued}`);
  assert.ok(deps.logLines.some((l) => l.includes("Could not enqueue usage")));
  await waitForRequests(deps, 40, HOUR);
  assert.deepEqual(
    (await queryUsage(deps, { windowMs: HOUR })).totals,
    expectedCounters([...first, ...second]),
  );
  kvReal.close();
  await consumer;
});

Deno.test("a closed KV ends the consumer without declaring queues unavailable", async () => {
  const kv = await Deno.openKv(":memory:");
  await using deps = await testDeps({ kv });
  kv.close();
  await assert.rejects(() => startUsageConsumer(deps));
  assert.ok(!deps.logLines.some((l) => l.includes("KV queues are not available here")));
});

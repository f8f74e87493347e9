/**
 * Client address and user agent on usage: normalisation, the two groupings,
 * buckets and queue messages written before the fields existed, and the
 * worst-case queue message size.
 */
import assert from "node:assert/strict";
import { keys } from "../../src/kv/keys.ts";
import {
  MAX_USER_AGENT_LENGTH,
  normalizeClient,
  normalizeUserAgent,
} from "../../src/usage/client_info.ts";
import { aggregateEvents, ingestUsage, parseBatch, usageMessage } from "../../src/usage/ingest.ts";
import { queryUsage } from "../../src/usage/query.ts";
import { flushUsage, MAX_DELTAS_PER_MESSAGE, recordUsage } from "../../src/usage/record.ts";
import type { UsageEvent } from "../../src/usage/types.ts";
import { emptyCounters } from "../../src/usage/buckets.ts";
import { testDeps } from "../support/test_deps.ts";
import { startUsageConsumer } from "../../src/usage/consumer.ts";
import { expectedGroups, syntheticEvents, waitForRequests } from "./helpers.ts";

const HOUR = 3_600_000;

Deno.test("client addresses and user agents are normalised before they become dimensions", async (t) => {
  await t.step("addresses: ports, brackets, mapped IPv4, case, unknown", () => {
    assert.equal(normalizeClient("203.0.113.7"), "203.0.113.7");
    assert.equal(normalizeClient(" 203.0.113.7:51234 "), "203.0.113.7");
    assert.equal(normalizeClient("[2001:DB8::1]:443"), "2001:db8::1");
    assert.equal(normalizeClient("2001:DB8::1"), "2001:db8::1");
    assert.equal(normalizeClient("::ffff:192.0.2.1"), "192.0.2.1");
    assert.equal(normalizeClient("unknown"), "");
    assert.equal(normalizeClient(undefined), "");
    assert.equal(normalizeClient("x".repeat(500)).length, 64);
  });

  await t.step(
    "user agents: whole string, control characters and runs of space folded, capped",
    () => {
      assert.equal(normalizeUserAgent("OpenAI/JS 6.1.0"), "OpenAI/JS 6.1.0");
      assert.equal(
        normalizeUserAgent("  claude-cli/2.0.1 \t (external,\ncli) "),
        "claude-cli/2.0.1 (external, cli)",
      );
      assert.equal(normalizeUserAgent(null), "");
      const long = "agent/" + "a".repeat(1000);
      assert.equal(normalizeUserAgent(long), long.slice(0, MAX_USER_AGENT_LENGTH));
    },
  );
});

Deno.test("usage groups by client address and user agent, old buckets and messages included", async (t) => {
  // The test owns the KV: closing it is what stops the queue listener.
  const kv = await Deno.openKv(":memory:");
  await using deps = await testDeps({ kv });
  const consumer = startUsageConsumer(deps);
  const now = deps.now();
  const events: UsageEvent[] = syntheticEvents(120, now, 30 * 60_000).map((e, i) => ({
    ...e,
    client: ["10.0.0.1", "10.0.0.2:4455", "[2001:db8::9]:1"][i % 3]!,
    userAgent: ["opencode/1.0", "claude-cli/2.0 (external, cli)", "OpenAI/JS 6.1.0", null][i % 4]!,
  }));
  for (const e of events) await recordUsage(deps, e);
  await flushUsage(deps);
  await waitForRequests(deps, events.length, HOUR);

  // A bucket as written before the client dimensions existed (seven-part key),
  // and a queue message from an older instance whose deltas lack them.
  const oldMinute = Math.floor((now - 5 * 60_000) / 60_000) * 60_000;
  await deps.kv.set(
    ["usage_buckets", oldMinute, "key_old", "acct_old", "codex", "gpt-5.5", "/openai/v1/responses"],
    { ...emptyCounters(), requests: 4, status2xx: 4, inputTokens: 40 },
  );
  const oldDelta = {
    minute: oldMinute,
    dims: {
      keyId: "key_old",
      accountId: "acct_old",
      provider: "codex",
      model: "gpt-5.5",
      endpoint: "/openai/v1/responses",
    },
    counters: { ...emptyCounters(), requests: 2, status2xx: 2 },
    lastAt: oldMinute,
  };
  const parsed = parseBatch({ type: "kleis.usage.v1", id: "old-batch", deltas: [oldDelta] });
  assert.equal(parsed?.rejected, 0);
  await ingestUsage(deps, parsed!.batch);

  await t.step(
    "groupBy=client: one group per normalised address, old usage under (none)",
    async () => {
      const answer = await queryUsage(deps, { windowMs: HOUR, groupBy: "client" });
      assert.equal(answer.totals.requests, 126);
      const expected = expectedGroups(events, (e) => normalizeClient(e.client));
      const groups = new Map(answer.groups!.map((g) => [g.key, g]));
      assert.deepEqual([...groups.keys()].sort(), ["", "10.0.0.1", "10.0.0.2", "2001:db8::9"]);
      for (const [key, counters] of expected) {
        const { key: _k, label, ...got } = groups.get(key)!;
        assert.equal(label, key);
        assert.deepEqual(got, counters, key);
      }
      assert.equal(groups.get("")!.label, "(none)");
      assert.equal(groups.get("")!.requests, 6);
    },
  );

  await t.step(
    "groupBy=userAgent: the whole string is the group; none and old → (none)",
    async () => {
      const answer = await queryUsage(deps, { windowMs: HOUR, groupBy: "userAgent" });
      const groups = new Map(answer.groups!.map((g) => [g.key, g]));
      const withAgent = events.filter((e) => e.userAgent);
      for (const [key, counters] of expectedGroups(withAgent, (e) => e.userAgent!)) {
        const { key: _k, label: _l, ...got } = groups.get(key)!;
        assert.deepEqual(got, counters, key);
      }
      assert.equal(groups.get("")!.requests, events.length - withAgent.length + 6);
    },
  );

  await t.step("the other groupings still see old and new buckets alike", async () => {
    const answer = await queryUsage(deps, { windowMs: HOUR, groupBy: "key" });
    assert.equal(answer.groups!.find((g) => g.key === "key_old")?.requests, 6);
    assert.equal(answer.groups!.reduce((s, g) => s + g.requests, 0), 126);
    const byClient = await queryUsage(deps, { windowMs: HOUR, groupBy: "client" });
    assert.equal(byClient.groups!.reduce((s, g) => s + g.requests, 0), 126);
  });

  await t.step("new buckets carry the two dimensions at the end of the key", async () => {
    const iter = deps.kv.list({ prefix: keys.usageBucketsPrefix() });
    let sawNew = false;
    for await (const entry of iter) {
      if (entry.key.length === 9 && entry.key[7] === "10.0.0.2") sawNew = true;
    }
    assert.ok(sawNew);
  });

  kv.close();
  await consumer;
});

Deno.test("a queue message of the most deltas with the longest dimensions fits a KV queue message", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const long = (c: string, n = 200) => c.repeat(n);
    const events: UsageEvent[] = Array.from({ length: MAX_DELTAS_PER_MESSAGE }, (_, i) => ({
      id: `r${i}`,
      at: Date.UTC(2026, 0, 1),
      keyId: `${i}`.padEnd(200, "k"),
      accountId: long("a"),
      provider: "claude",
      model: long("m"),
      endpoint: long("e"),
      status: 200,
      failure: "none",
      firstByteMs: 123456,
      latencyMs: 1234567,
      attempts: 3,
      inputTokens: 123456789,
      outputTokens: 123456789,
      cacheReadTokens: 123456789,
      cacheWriteTokens: 123456789,
      client: long("c", 64),
      userAgent: long("u"),
    }));
    const deltas = aggregateEvents(events);
    assert.equal(deltas.length, MAX_DELTAS_PER_MESSAGE);
    await kv.enqueue(usageMessage({ id: "x".repeat(24), deltas }));
  } finally {
    kv.close();
  }
});

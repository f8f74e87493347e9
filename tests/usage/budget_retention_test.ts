import assert from "node:assert/strict";
import { KleisError } from "../../src/errors.ts";
import { keys } from "../../src/kv/keys.ts";
import type { ApiKeyRecord } from "../../src/model/keys.ts";
import { ingestEvents } from "./helpers.ts";
import { queryUsage } from "../../src/usage/query.ts";
import { runUsageRetention } from "../../src/usage/retention.ts";
import { checkTokenBudget } from "../../src/usage/token_budget.ts";
import type { UsageEvent } from "../../src/usage/types.ts";
import { testDeps } from "../support/test_deps.ts";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function key(tokensPerDay?: number): ApiKeyRecord {
  return {
    id: "key_budget",
    label: "budget",
    hash: "0".repeat(64),
    prefix: "kleis_abcdef",
    createdAt: 0,
    updatedAt: 0,
    discoveryToken: "d",
    ...(tokensPerDay === undefined ? {} : { limits: { tokensPerDay } }),
  };
}

function event(id: string, at: number, tokens: Partial<UsageEvent> = {}): UsageEvent {
  return {
    id,
    at,
    keyId: "key_budget",
    accountId: "acct",
    provider: "codex",
    model: "m",
    endpoint: "/openai/v1/responses",
    status: 200,
    failure: "none",
    firstByteMs: 5,
    latencyMs: 10,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    ...tokens,
  };
}

Deno.test("tokensPerDay blocks once reached and allows again the next UTC day", async (t) => {
  await using deps = await testDeps();
  // 12:00 UTC: 12 hours to midnight.
  await t.step("under the limit: allowed", async () => {
    await ingestEvents(deps, "b1", [
      event("r1", deps.now(), { inputTokens: 400, outputTokens: 300, cacheReadTokens: 200 }),
    ]);
    await checkTokenBudget(deps, key(1000)); // 900 of 1000
  });

  await t.step(
    "reaching it (cache-write tokens count too) → 429 with Retry-After until midnight",
    async () => {
      await ingestEvents(deps, "b2", [event("r2", deps.now(), { cacheWriteTokens: 100 })]);
      await assert.rejects(() => checkTokenBudget(deps, key(1000)), (error: unknown) => {
        assert.ok(error instanceof KleisError);
        assert.equal(error.status, 429);
        assert.equal(error.headers["Retry-After"], String(12 * 3600));
        return true;
      });
      // A key without the limit is never blocked by usage.
      await checkTokenBudget(deps, key());
    },
  );

  await t.step("the next UTC day: allowed again", async () => {
    deps.clock.advance(12 * 3600 * 1000);
    await checkTokenBudget(deps, key(1000));
  });
});

Deno.test("retention deletes buckets older than the retention period and keeps newer ones", async () => {
  await using deps = await testDeps({ config: { usageRetentionDays: 30 } });
  const now = deps.now();
  await ingestEvents(deps, "mixed", [
    event("old1", now - 40 * DAY, { inputTokens: 1 }),
    event("old2", now - 31 * DAY, { inputTokens: 2 }),
    event("new1", now - 29 * DAY, { inputTokens: 4 }),
    event("new2", now - 5 * MINUTE, { inputTokens: 8 }),
  ]);
  const count = async (prefix: Deno.KvKey) => {
    let n = 0;
    for await (const _ of deps.kv.list({ prefix })) n++;
    return n;
  };
  assert.equal(await count(keys.usageBucketsPrefix()), 4);
  assert.equal(await count(keys.usageHoursPrefix()), 4);
  assert.equal(await count(keys.tokensInDayPrefix()), 4);

  const removed = await runUsageRetention(deps);
  assert.deepEqual(removed, { minuteBuckets: 2, hourBuckets: 2, dayTotals: 2 });
  assert.equal(await count(keys.usageBucketsPrefix()), 2);
  assert.equal(await count(keys.usageHoursPrefix()), 2);
  const answer = await queryUsage(deps, { windowMs: 30 * DAY });
  assert.equal(answer.totals.inputTokens, 12);
  assert.equal(answer.totals.requests, 2);
});

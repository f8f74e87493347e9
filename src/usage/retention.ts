/**
 * Usage retention: deletes minute and hour buckets, and daily token totals,
 * older than config.usageRetentionDays. Buckets also carry an expireIn a day
 * past that, as a backstop should this job not run.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import { DAY_MS, HOUR_MS, utcDay } from "./buckets.ts";

const DELETES_PER_COMMIT = 200;

async function deleteAll(kv: Deno.Kv, entries: AsyncIterable<Deno.KvEntry<unknown>>) {
  let count = 0;
  let batch: Deno.KvKey[] = [];
  const flush = async () => {
    const op = kv.atomic();
    for (const key of batch) op.delete(key);
    await op.commit();
    count += batch.length;
    batch = [];
  };
  for await (const entry of entries) {
    batch.push(entry.key);
    if (batch.length >= DELETES_PER_COMMIT) await flush();
  }
  if (batch.length > 0) await flush();
  return count;
}

async function* olderDays(kv: Deno.Kv, cutoffDay: string) {
  for await (const entry of kv.list({ prefix: keys.tokensInDayPrefix() })) {
    const day = entry.key[2];
    if (typeof day === "string" && day < cutoffDay) yield entry;
  }
}

export interface RetentionResult {
  minuteBuckets: number;
  hourBuckets: number;
  dayTotals: number;
}

export async function runUsageRetention(
  deps: Pick<Deps, "kv" | "config" | "now">,
): Promise<RetentionResult> {
  const cutoff = deps.now() - deps.config.usageRetentionDays * DAY_MS;
  const [prefix] = keys.usageBucketsPrefix();
  const [hourPrefix] = keys.usageHoursPrefix();
  // Numbers sort after nothing else in these prefixes, so [prefix] .. [prefix, cutoff] is
  // exactly the buckets that start before the cutoff.
  const minuteBuckets = await deleteAll(
    deps.kv,
    deps.kv.list({ start: [prefix], end: [prefix, cutoff] }),
  );
  // An hour bucket goes once all of its hour is older than the cutoff.
  const hourBuckets = await deleteAll(
    deps.kv,
    deps.kv.list({ start: [hourPrefix], end: [hourPrefix, cutoff - HOUR_MS + 1] }),
  );
  const dayTotals = await deleteAll(deps.kv, olderDays(deps.kv, utcDay(cutoff)));
  return { minuteBuckets, hourBuckets, dayTotals };
}

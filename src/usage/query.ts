/**
 * Usage answers (docs/api.md#usage-and-audit): totals, the previous window,
 * a dense series and optional groups, read from the buckets of a time range.
 *
 * The window is made of whole minutes: `until` is the end of the current
 * minute and a minute bucket belongs to the window when its start is in
 * [since, until). Windows whose series uses hour steps read the hour
 * rollups for the hours wholly inside the window and minute buckets for the
 * partial hours at either edge, so totals stay exact at any length.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import {
  type BucketCounters,
  type BucketDims,
  countersFrom,
  type Dimension,
  emptyCounters,
  HOUR_MS,
  mergeCounters,
  MINUTE_MS,
  type SummedCounters,
} from "./buckets.ts";

export const GROUP_BY = [
  "key",
  "account",
  "provider",
  "model",
  "endpoint",
  "client",
  "userAgent",
] as const;
export type GroupBy = typeof GROUP_BY[number];

const GROUP_DIMENSION: Record<GroupBy, Dimension> = {
  key: "keyId",
  account: "accountId",
  provider: "provider",
  model: "model",
  endpoint: "endpoint",
  client: "client",
  userAgent: "userAgent",
};

/** The counters of docs/api.md#usage-and-audit: the sums, and latency as averages and a maximum. */
export interface UsageCounters extends SummedCounters {
  avgLatencyMs: number;
  maxLatencyMs: number;
  avgFirstByteMs: number;
}

export interface UsageAnswer {
  windowMs: number;
  since: number;
  until: number;
  bucketMs: number;
  totals: UsageCounters;
  previous: UsageCounters;
  series: ({ start: number } & UsageCounters)[];
  groups?: ({ key: string; label: string } & UsageCounters)[];
}

export interface UsageQuery {
  windowMs: number;
  groupBy?: GroupBy | undefined;
  /** Only this key's or this account's usage. */
  keyId?: string | undefined;
  accountId?: string | undefined;
}

/** A window of whole minutes: it ends with the current minute. */
export function windowBounds(now: number, windowMs: number): { since: number; until: number } {
  const until = Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  return { since: until - windowMs, until };
}

/** Series step by window length: at most 72 points up to 12 h, hours beyond (720 for 30 days). */
function bucketMsFor(windowMs: number): number {
  if (windowMs <= HOUR_MS) return MINUTE_MS;
  if (windowMs <= 6 * HOUR_MS) return 5 * MINUTE_MS;
  if (windowMs <= 12 * HOUR_MS) return 15 * MINUTE_MS;
  return HOUR_MS;
}

export function publicCounters(c: BucketCounters): UsageCounters {
  return {
    requests: c.requests,
    status2xx: c.status2xx,
    status4xx: c.status4xx,
    status5xx: c.status5xx,
    status429: c.status429,
    proxyErrors: c.proxyErrors,
    backendErrors: c.backendErrors,
    retries: c.retries,
    avgLatencyMs: c.requests > 0 ? Math.round(c.latencySumMs / c.requests) : 0,
    maxLatencyMs: c.latencyMaxMs,
    avgFirstByteMs: c.firstByteCount > 0 ? Math.round(c.firstByteSumMs / c.firstByteCount) : 0,
    inputTokens: c.inputTokens,
    outputTokens: c.outputTokens,
    cacheReadTokens: c.cacheReadTokens,
    cacheWriteTokens: c.cacheWriteTokens,
  };
}

type Visit = (start: number, dims: BucketDims, counters: BucketCounters) => void;

async function listRange(kv: Deno.Kv, prefix: string, from: number, to: number, visit: Visit) {
  if (from >= to) return;
  const iter = kv.list({ start: [prefix, from], end: [prefix, to] }, { batchSize: 1000 });
  for await (const entry of iter) {
    // Buckets written before client and userAgent were kept lack both: "".
    const [, start, keyId, accountId, provider, model, endpoint, client, userAgent] = entry.key;
    if (typeof start !== "number") continue;
    visit(start, {
      keyId: String(keyId ?? ""),
      accountId: String(accountId ?? ""),
      provider: String(provider ?? ""),
      model: String(model ?? ""),
      endpoint: String(endpoint ?? ""),
      client: String(client ?? ""),
      userAgent: String(userAgent ?? ""),
    }, countersFrom(entry.value));
  }
}

/** Visits every bucket of [from, to), using hour rollups for whole hours when asked. */
export async function scan(kv: Deno.Kv, from: number, to: number, useHours: boolean, visit: Visit) {
  const [minutes] = keys.usageBucketsPrefix();
  const [hours] = keys.usageHoursPrefix();
  const firstHour = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const endHour = Math.floor(to / HOUR_MS) * HOUR_MS;
  if (!useHours || firstHour >= endHour) return await listRange(kv, minutes, from, to, visit);
  await listRange(kv, minutes, from, firstHour, visit);
  await listRange(kv, hours, firstHour, endHour, visit);
  await listRange(kv, minutes, endHour, to, visit);
}

/** Labels of keys or accounts by id (ids without a record are left out). */
export async function labels(
  kv: Deno.Kv,
  groupBy: GroupBy,
  ids: string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (groupBy !== "key" && groupBy !== "account") return out;
  const real = ids.filter((id) => id !== "");
  for (let i = 0; i < real.length; i += 10) {
    const slice = real.slice(i, i + 10);
    const entries = await kv.getMany<{ label?: unknown }[]>(
      slice.map((id) => groupBy === "key" ? keys.apiKey(id) : keys.account(id)),
    );
    entries.forEach((entry, j) => {
      if (typeof entry.value?.label === "string") out.set(slice[j]!, entry.value.label);
    });
  }
  return out;
}

export async function queryUsage(
  deps: Pick<Deps, "kv" | "now">,
  query: UsageQuery,
): Promise<UsageAnswer> {
  const { windowMs, groupBy } = query;
  const { since, until } = windowBounds(deps.now(), windowMs);
  const bucketMs = bucketMsFor(windowMs);
  const useHours = bucketMs >= HOUR_MS;
  const matches = (d: BucketDims) =>
    (query.keyId === undefined || d.keyId === query.keyId) &&
    (query.accountId === undefined || d.accountId === query.accountId);

  const seriesStart = Math.floor(since / bucketMs) * bucketMs;
  const series = Array.from(
    { length: Math.ceil((until - seriesStart) / bucketMs) },
    () => emptyCounters(),
  );
  const totals = emptyCounters();
  const groups = new Map<string, BucketCounters>();
  await scan(deps.kv, since, until, useHours, (start, dims, counters) => {
    if (!matches(dims)) return;
    mergeCounters(totals, counters);
    const slot = series[Math.floor((start - seriesStart) / bucketMs)];
    if (slot) mergeCounters(slot, counters);
    if (groupBy) {
      const id = dims[GROUP_DIMENSION[groupBy]];
      groups.set(id, mergeCounters(groups.get(id) ?? emptyCounters(), counters));
    }
  });
  const previous = emptyCounters();
  await scan(deps.kv, since - windowMs, since, useHours, (_start, dims, counters) => {
    if (matches(dims)) mergeCounters(previous, counters);
  });

  const answer: UsageAnswer = {
    windowMs,
    since,
    until,
    bucketMs,
    totals: publicCounters(totals),
    previous: publicCounters(previous),
    series: series.map((c, i) => ({ start: seriesStart + i * bucketMs, ...publicCounters(c) })),
  };
  if (groupBy) {
    const names = await labels(deps.kv, groupBy, [...groups.keys()]);
    answer.groups = [...groups.entries()]
      .sort(([ka, a], [kb, b]) => b.requests - a.requests || (ka < kb ? -1 : ka > kb ? 1 : 0))
      .map(([key, c]) => ({
        key,
        label: key === "" ? "(none)" : names.get(key) ?? key,
        ...publicCounters(c),
      }));
  }
  return answer;
}

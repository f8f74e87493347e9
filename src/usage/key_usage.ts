/**
 * GET /admin/keys/usage: every API key's totals in a window, and the same per
 * provider, in one answer (the key list of the admin page shows them). The
 * envelope and row names are those of the original Kleis API (windowMs,
 * since, now, usage[].apiKeyId, lastRequestAt, providers[]); the counters are
 * Kleis's usage counters, the same as in every other usage answer.
 */
import type { Deps } from "../deps.ts";
import { type BucketCounters, emptyCounters, HOUR_MS, mergeCounters } from "./buckets.ts";
import { labels, publicCounters, scan, type UsageCounters, windowBounds } from "./query.ts";
import { getLastUsedMany } from "./last_used.ts";

export interface KeyUsageRow extends UsageCounters {
  apiKeyId: string;
  /** The key's label, or null when the key has been deleted since. */
  label: string | null;
  /** The key's last request (it may be newer than the window's end by less than a minute). */
  lastRequestAt: number | null;
  providers: ({ provider: string } & UsageCounters)[];
}

export interface KeyUsageAnswer {
  windowMs: number;
  since: number;
  until: number;
  now: number;
  usage: KeyUsageRow[];
}

interface Tally {
  totals: BucketCounters;
  providers: Map<string, BucketCounters>;
}

/** Keys with at least one request in the window, most requests first. */
export async function keyUsageSummaries(
  deps: Pick<Deps, "kv" | "now">,
  windowMs: number,
): Promise<KeyUsageAnswer> {
  const now = deps.now();
  const { since, until } = windowBounds(now, windowMs);
  const byKey = new Map<string, Tally>();
  await scan(deps.kv, since, until, windowMs > 12 * HOUR_MS, (_start, dims, counters) => {
    // Requests refused before a key was known carry no key id.
    if (dims.keyId === "") return;
    let tally = byKey.get(dims.keyId);
    if (!tally) byKey.set(dims.keyId, tally = { totals: emptyCounters(), providers: new Map() });
    mergeCounters(tally.totals, counters);
    const provider = dims.provider || "none";
    tally.providers.set(
      provider,
      mergeCounters(tally.providers.get(provider) ?? emptyCounters(), counters),
    );
  });
  const ids = [...byKey.keys()];
  const lastUsed = await getLastUsedMany(deps.kv, "key", ids);
  const names = await labels(deps.kv, "key", ids);
  const usage = [...byKey.entries()]
    .sort(([a, x], [b, y]) => y.totals.requests - x.totals.requests || (a < b ? -1 : a > b ? 1 : 0))
    .map(([apiKeyId, tally]): KeyUsageRow => ({
      apiKeyId,
      label: names.get(apiKeyId) ?? null,
      ...publicCounters(tally.totals),
      lastRequestAt: lastUsed.get(apiKeyId) ?? null,
      providers: [...tally.providers.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([provider, c]) => ({ provider, ...publicCounters(c) })),
    }));
  return { windowMs, since, until, now, usage };
}

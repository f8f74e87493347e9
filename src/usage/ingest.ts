/**
 * Ingestion: folds a batch of usage events into minute and hour buckets,
 * per-key daily token totals and last-used times.
 *
 * Idempotent per batch: the batch is cut into chunks in a deterministic
 * order, and each chunk commits its bucket updates together with a "seen"
 * marker for (batch id, chunk number) in one atomic commit, checked absent.
 * A redelivered batch therefore skips every chunk already applied, and a
 * failure midway (process death, injected fault) leaves whole chunks only.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import {
  billedTokens,
  type BucketCounters,
  countersFrom,
  DAY_MS,
  eventCounters,
  eventDims,
  HOUR_MS,
  hourOf,
  mergeCounters,
  minuteOf,
  utcDay,
} from "./buckets.ts";
import type { UsageEvent } from "./types.ts";

/** A unit of delivery: one queue message, or one direct write. */
export interface UsageBatch {
  id: string;
  events: UsageEvent[];
}

export interface IngestOptions {
  /** Test hook: runs before each chunk's commit; throwing simulates a crash there. */
  beforeCommit?: (chunk: number) => void | Promise<void>;
}

/** Buckets per commit: with the seen marker, 9 checks (design rule: at most 10). */
const BUCKETS_PER_CHUNK = 8;
const MAX_ATTEMPTS = 10;
/**
 * How long a seen marker lives: longer than the queue's whole redelivery
 * schedule (about 13 minutes) and the daily sweep of undelivered batches.
 */
export const SEEN_TTL_MS = 8 * DAY_MS;

interface BucketUpdate {
  id: string;
  key: Deno.KvKey;
  start: number;
  counters: BucketCounters;
}

function isUsageEvent(value: unknown): value is UsageEvent {
  if (value === null || typeof value !== "object") return false;
  const e = value as Record<string, unknown>;
  return typeof e.id === "string" && typeof e.at === "number" && Number.isFinite(e.at) &&
    typeof e.endpoint === "string" && typeof e.status === "number";
}

/** Validates a queue message's batch; malformed events are reported, never thrown on. */
export function parseBatch(
  value: unknown,
): { batch: UsageBatch; rejected: number } | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (v.type !== USAGE_MESSAGE_TYPE || typeof v.id !== "string" || !Array.isArray(v.events)) {
    return undefined;
  }
  const events = v.events.filter(isUsageEvent);
  return { batch: { id: v.id, events }, rejected: v.events.length - events.length };
}

export const USAGE_MESSAGE_TYPE = "kleis.usage.v1";

export function usageMessage(batch: UsageBatch) {
  return { type: USAGE_MESSAGE_TYPE, id: batch.id, events: batch.events };
}

function aggregate(events: UsageEvent[]) {
  const buckets = new Map<string, BucketUpdate>();
  const tokensByKeyDay = new Map<string, { keyId: string; day: string; tokens: number }>();
  const lastUsed = new Map<string, { kind: "key" | "account"; id: string; at: number }>();
  const add = (key: Deno.KvKey, start: number, counters: BucketCounters) => {
    const id = JSON.stringify(key);
    const existing = buckets.get(id);
    if (existing) mergeCounters(existing.counters, counters);
    else buckets.set(id, { id, key, start, counters: { ...counters } });
  };
  for (const event of events) {
    const c = eventCounters(event);
    const d = eventDims(event);
    const minute = minuteOf(event.at);
    const hour = hourOf(event.at);
    add(keys.usageMinute(minute, d.keyId, d.accountId, d.provider, d.model, d.endpoint), minute, c);
    add(keys.usageHour(hour, d.keyId, d.accountId, d.provider, d.model, d.endpoint), hour, c);
    const tokens = billedTokens(c);
    if (d.keyId !== "" && tokens > 0) {
      const day = utcDay(event.at);
      const id = `${d.keyId}\n${day}`;
      const entry = tokensByKeyDay.get(id) ?? { keyId: d.keyId, day, tokens: 0 };
      entry.tokens += tokens;
      tokensByKeyDay.set(id, entry);
    }
    for (const [kind, id] of [["key", d.keyId], ["account", d.accountId]] as const) {
      if (id === "") continue;
      const prev = lastUsed.get(`${kind}\n${id}`);
      if (!prev || prev.at < event.at) lastUsed.set(`${kind}\n${id}`, { kind, id, at: event.at });
    }
  }
  // Sorted so a redelivery cuts the same chunks and finds their seen markers.
  const sorted = [...buckets.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    buckets: sorted,
    tokensByKeyDay: [...tokensByKeyDay.values()],
    lastUsed: [...lastUsed.values()],
  };
}

const locks = new WeakMap<Deno.Kv, Promise<unknown>>();

/**
 * Serialises ingestion per KV handle: concurrent queue deliveries in one
 * process would otherwise conflict on the same hot buckets and retry.
 */
function serialised<T>(kv: Deno.Kv, task: () => Promise<T>): Promise<T> {
  const previous = locks.get(kv) ?? Promise.resolve();
  const run = previous.then(task, task);
  locks.set(kv, run.catch(() => undefined));
  return run;
}

export function ingestUsage(
  deps: Pick<Deps, "kv" | "config" | "now">,
  batch: UsageBatch,
  options: IngestOptions = {},
): Promise<void> {
  return serialised(deps.kv, () => ingestNow(deps, batch, options));
}

async function ingestNow(
  deps: Pick<Deps, "kv" | "config" | "now">,
  batch: UsageBatch,
  options: IngestOptions,
): Promise<void> {
  if (batch.events.length === 0) return;
  const { buckets, tokensByKeyDay, lastUsed } = aggregate(batch.events);
  const retentionMs = deps.config.usageRetentionDays * DAY_MS;
  const chunks: BucketUpdate[][] = [];
  for (let i = 0; i < buckets.length; i += BUCKETS_PER_CHUNK) {
    chunks.push(buckets.slice(i, i + BUCKETS_PER_CHUNK));
  }
  for (const [index, chunk] of chunks.entries()) {
    const seenKey = keys.usageEventSeen(`${batch.id}#${index}`);
    await commitChunk(deps, seenKey, chunk, retentionMs, async (op) => {
      // The per-key totals and last-used times ride with the first chunk only.
      if (index === 0) {
        for (const t of tokensByKeyDay) {
          op.sum(keys.tokensInDay(t.keyId, t.day), BigInt(t.tokens));
        }
        for (const l of lastUsed) {
          op.max(keys.lastUsed(l.kind, l.id), BigInt(Math.max(0, Math.round(l.at))));
        }
      }
      await options.beforeCommit?.(index);
    });
  }
}

async function commitChunk(
  deps: Pick<Deps, "kv" | "now">,
  seenKey: Deno.KvKey,
  chunk: BucketUpdate[],
  retentionMs: number,
  extend: (op: Deno.AtomicOperation) => Promise<void>,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const entries = await deps.kv.getMany([seenKey, ...chunk.map((b) => b.key)]);
    if (entries[0]?.versionstamp !== null) return; // applied by an earlier delivery
    const op = deps.kv.atomic().check({ key: seenKey, versionstamp: null });
    const now = deps.now();
    chunk.forEach((bucket, i) => {
      const current = entries[i + 1]!;
      op.check({ key: bucket.key, versionstamp: current.versionstamp });
      const merged = mergeCounters(countersFrom(current.value), bucket.counters);
      // Backstop for the retention job: a bucket expires a day after it is due to be deleted.
      const expireIn = Math.max(HOUR_MS, bucket.start + retentionMs + DAY_MS - now);
      op.set(bucket.key, merged, { expireIn });
    });
    op.set(seenKey, now, { expireIn: SEEN_TTL_MS });
    await extend(op);
    const result = await op.commit();
    if (result.ok) return;
  }
  throw new Error(`Usage ingestion kept conflicting after ${MAX_ATTEMPTS} attempts.`);
}

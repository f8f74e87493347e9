/**
 * Ingestion: folds a batch of usage deltas (events already aggregated per
 * minute and dimensions by the sender) into minute and hour buckets, per-key
 * daily token totals and last-used times.
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
  type BucketDims,
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
import { runtimeSlot } from "../runtime.ts";
import { alertKeyTokens } from "../alerts/events.ts";

/**
 * The counters one (minute, dimensions) gained from some events, and the
 * latest of those events. The sender aggregates events into deltas before
 * sending, so a message's size and the consumer's work grow with the number
 * of distinct dimensions, not with the number of requests.
 */
export interface UsageDelta {
  minute: number;
  dims: BucketDims;
  counters: BucketCounters;
  lastAt: number;
}

/** A unit of delivery: one queue message, or one direct write. */
export interface UsageBatch {
  id: string;
  deltas: UsageDelta[];
}

export interface IngestOptions {
  /** Test hook: runs before each chunk's commit; throwing simulates a crash there. */
  beforeCommit?: (chunk: number) => void | Promise<void>;
}

/** Buckets per commit: with the seen marker, 9 checks (self-hosted KV allows 10 a commit). */
const BUCKETS_PER_CHUNK = 8;
const MAX_ATTEMPTS = 10;
/**
 * How long a seen marker lives: longer than the queue's whole redelivery
 * schedule (about 13 minutes) and the daily sweep of undelivered batches.
 */
const SEEN_TTL_MS = 8 * DAY_MS;

interface BucketUpdate {
  id: string;
  key: Deno.KvKey;
  start: number;
  counters: BucketCounters;
}

/** Identity of the delta an event folds into. */
export const deltaKeyOf = (event: UsageEvent) => dimsKey(minuteOf(event.at), eventDims(event));

const dimsKey = (minute: number, d: BucketDims) =>
  `${minute}\n${d.keyId}\n${d.accountId}\n${d.provider}\n${d.model}\n${d.endpoint}\n${d.client}\n${d.userAgent}`;

/** Folds events into deltas, in a deterministic order. */
export function aggregateEvents(events: UsageEvent[]): UsageDelta[] {
  const deltas = new Map<string, UsageDelta>();
  for (const event of events) {
    const minute = minuteOf(event.at);
    const dims = eventDims(event);
    const id = dimsKey(minute, dims);
    const counters = eventCounters(event);
    const existing = deltas.get(id);
    if (existing) {
      mergeCounters(existing.counters, counters);
      existing.lastAt = Math.max(existing.lastAt, event.at);
    } else {
      deltas.set(id, { minute, dims, counters, lastAt: event.at });
    }
  }
  return [...deltas.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function parseDelta(value: unknown): UsageDelta | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  const dims = v.dims as Record<string, unknown> | null | undefined;
  if (!isFiniteNumber(v.minute) || !isFiniteNumber(v.lastAt) || !dims) return undefined;
  const text = (name: keyof BucketDims) => typeof dims[name] === "string" ? dims[name] : undefined;
  const [keyId, accountId, provider, model, endpoint] = [
    text("keyId"),
    text("accountId"),
    text("provider"),
    text("model"),
    text("endpoint"),
  ];
  if (
    keyId === undefined || accountId === undefined || provider === undefined ||
    model === undefined || endpoint === undefined
  ) return undefined;
  // Messages sent before client and userAgent were kept have neither.
  const [client, userAgent] = [text("client") ?? "", text("userAgent") ?? ""];
  return {
    minute: minuteOf(v.minute),
    dims: eventDims({ keyId, accountId, provider, model, endpoint, client, userAgent }),
    counters: countersFrom(v.counters),
    lastAt: v.lastAt,
  };
}

const USAGE_MESSAGE_TYPE = "kleis.usage.v1";

export function usageMessage(batch: UsageBatch) {
  return { type: USAGE_MESSAGE_TYPE, id: batch.id, deltas: batch.deltas };
}

/** Validates a queue message; malformed deltas are counted, never thrown on. */
export function parseBatch(
  value: unknown,
): { batch: UsageBatch; rejected: number } | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (v.type !== USAGE_MESSAGE_TYPE || typeof v.id !== "string" || !Array.isArray(v.deltas)) {
    return undefined;
  }
  const deltas = v.deltas.map(parseDelta).filter((d): d is UsageDelta => d !== undefined);
  return { batch: { id: v.id, deltas }, rejected: v.deltas.length - deltas.length };
}

/** Minute and hour bucket updates, day token totals and last-used times of a batch. */
function plan(deltas: UsageDelta[]) {
  const buckets = new Map<string, BucketUpdate>();
  const tokensByKeyDay = new Map<string, { keyId: string; day: string; tokens: number }>();
  const lastUsed = new Map<string, { kind: "key" | "account"; id: string; at: number }>();
  const add = (key: Deno.KvKey, start: number, counters: BucketCounters) => {
    const id = JSON.stringify(key);
    const existing = buckets.get(id);
    if (existing) mergeCounters(existing.counters, counters);
    else buckets.set(id, { id, key, start, counters: { ...counters } });
  };
  for (const { minute, dims: d, counters: c, lastAt } of deltas) {
    const hour = hourOf(minute);
    const dims = [
      d.keyId,
      d.accountId,
      d.provider,
      d.model,
      d.endpoint,
      d.client,
      d.userAgent,
    ] as const;
    add(keys.usageMinute(minute, ...dims), minute, c);
    add(keys.usageHour(hour, ...dims), hour, c);
    const tokens = billedTokens(c);
    if (d.keyId !== "" && tokens > 0) {
      const day = utcDay(minute);
      const id = `${d.keyId}\n${day}`;
      const entry = tokensByKeyDay.get(id) ?? { keyId: d.keyId, day, tokens: 0 };
      entry.tokens += tokens;
      tokensByKeyDay.set(id, entry);
    }
    for (const [kind, id] of [["key", d.keyId], ["account", d.accountId]] as const) {
      if (id === "") continue;
      const prev = lastUsed.get(`${kind}\n${id}`);
      if (!prev || prev.at < lastAt) lastUsed.set(`${kind}\n${id}`, { kind, id, at: lastAt });
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

/** The end of this app's ingestion chain. */
const LOCK = runtimeSlot(
  "usage.ingestLock",
  () => ({ last: Promise.resolve() as Promise<unknown> }),
);

/**
 * Serialises ingestion per app: concurrent queue deliveries in one process
 * would otherwise conflict on the same hot buckets and retry.
 */
function serialised<T>(deps: Pick<Deps, "runtime">, task: () => Promise<T>): Promise<T> {
  const lock = deps.runtime.get(LOCK);
  const run = lock.last.then(task, task);
  lock.last = run.catch(() => undefined);
  return run;
}

export function ingestUsage(
  deps: Deps,
  batch: UsageBatch,
  options: IngestOptions = {},
): Promise<void> {
  return serialised(deps, () => ingestNow(deps, batch, options));
}

async function ingestNow(
  deps: Deps,
  batch: UsageBatch,
  options: IngestOptions,
): Promise<void> {
  if (batch.deltas.length === 0) return;
  const { buckets, tokensByKeyDay, lastUsed } = plan(batch.deltas);
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
  alertKeyTokens(deps, tokensByKeyDay);
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

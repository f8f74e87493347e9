/**
 * Usage buckets: the counters of one (time slot, key, account, provider,
 * model, endpoint), stored as one small JSON record per slot. One record
 * rather than one KvU64 per counter because reads dominate the cost of a
 * 30-day window: a record is one entry to list instead of fifteen.
 */
import type { UsageEvent } from "./types.ts";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/**
 * The counters stored as plain sums and answered as they are; the usage
 * answer (UsageCounters) and the stored record (BucketCounters) both hold them.
 */
export interface SummedCounters {
  requests: number;
  status2xx: number;
  /** Includes 429s; status429 counts them again on their own. */
  status4xx: number;
  status5xx: number;
  status429: number;
  proxyErrors: number;
  backendErrors: number;
  /** Backend calls beyond the first of each request (transient retries, failovers, refresh retries). */
  retries: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/** Raw additive counters as stored (sums, not averages, so buckets merge exactly). */
export interface BucketCounters extends SummedCounters {
  latencySumMs: number;
  latencyMaxMs: number;
  firstByteSumMs: number;
  firstByteCount: number;
}

/** The dimensions of a bucket; "" where the event had none (or predates the dimension). */
export interface BucketDims {
  keyId: string;
  accountId: string;
  provider: string;
  model: string;
  endpoint: string;
  /** Client address and User-Agent (client_info.ts). */
  client: string;
  userAgent: string;
}

export type Dimension = keyof BucketDims;

export function emptyCounters(): BucketCounters {
  return {
    requests: 0,
    status2xx: 0,
    status4xx: 0,
    status5xx: 0,
    status429: 0,
    proxyErrors: 0,
    backendErrors: 0,
    retries: 0,
    latencySumMs: 0,
    latencyMaxMs: 0,
    firstByteSumMs: 0,
    firstByteCount: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  };
}

const COUNTER_NAMES = Object.keys(emptyCounters()) as (keyof BucketCounters)[];

/** Adds b into a (max for the maximum, sum for everything else). */
export function mergeCounters(a: BucketCounters, b: BucketCounters): BucketCounters {
  for (const name of COUNTER_NAMES) {
    a[name] = name === "latencyMaxMs" ? Math.max(a[name], b[name]) : a[name] + b[name];
  }
  return a;
}

/** Reads a stored record defensively: a missing or malformed field counts as 0. */
export function countersFrom(value: unknown): BucketCounters {
  const out = emptyCounters();
  if (value === null || typeof value !== "object") return out;
  const record = value as Record<string, unknown>;
  for (const name of COUNTER_NAMES) {
    const v = record[name];
    if (typeof v === "number" && Number.isFinite(v)) out[name] = v;
  }
  return out;
}

const nonNegative = (n: number | null) =>
  typeof n === "number" && Number.isFinite(n) && n > 0 ? Math.round(n) : 0;

/** The counters one event contributes. */
export function eventCounters(event: UsageEvent): BucketCounters {
  const c = emptyCounters();
  const latency = nonNegative(event.latencyMs);
  c.requests = 1;
  if (event.status >= 200 && event.status < 300) c.status2xx = 1;
  if (event.status >= 400 && event.status < 500) c.status4xx = 1;
  if (event.status >= 500 && event.status < 600) c.status5xx = 1;
  if (event.status === 429) c.status429 = 1;
  if (event.failure === "proxy") c.proxyErrors = 1;
  if (event.failure === "backend") c.backendErrors = 1;
  c.retries = Math.max(0, nonNegative(event.attempts ?? 1) - 1);
  c.latencySumMs = latency;
  c.latencyMaxMs = latency;
  if (typeof event.firstByteMs === "number" && Number.isFinite(event.firstByteMs)) {
    c.firstByteSumMs = nonNegative(event.firstByteMs);
    c.firstByteCount = 1;
  }
  c.inputTokens = nonNegative(event.inputTokens);
  c.outputTokens = nonNegative(event.outputTokens);
  c.cacheReadTokens = nonNegative(event.cacheReadTokens);
  c.cacheWriteTokens = nonNegative(event.cacheWriteTokens);
  return c;
}

/** KV keys hold at most 2 KiB: client-chosen strings (the model) are capped. */
export const MAX_DIM_LENGTH = 200;
const dim = (s: string | null) => (s ?? "").slice(0, MAX_DIM_LENGTH);

export function eventDims(
  event: Pick<UsageEvent, "keyId" | "accountId" | "model" | "endpoint"> & {
    provider: string | null;
    client?: string | null | undefined;
    userAgent?: string | null | undefined;
  },
): BucketDims {
  return {
    keyId: dim(event.keyId),
    accountId: dim(event.accountId),
    provider: dim(event.provider),
    model: dim(event.model),
    endpoint: dim(event.endpoint),
    client: dim(event.client ?? null),
    userAgent: dim(event.userAgent ?? null),
  };
}

/** Billed tokens of an event: all four counters, as the provider bills them. */
export function billedTokens(c: BucketCounters): number {
  return c.inputTokens + c.outputTokens + c.cacheReadTokens + c.cacheWriteTokens;
}

export const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;
export const hourOf = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
/** The UTC day of a time, "YYYY-MM-DD" (the key of tokensPerDay accounting). */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

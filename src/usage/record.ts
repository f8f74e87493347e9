/**
 * recordUsage(): the request path's only usage work. The event goes into an
 * in-process buffer and the call returns at once; a sender drains the buffer
 * as queue messages, one send in flight at a time ("group commit"), each
 * message already aggregated per (minute, key, account, provider, model,
 * endpoint, client address, user agent), so its size and the consumer's work depend on how many distinct
 * dimensions there were, not on how many requests.
 *
 * Measured (bench/usage_bench.ts; README "Performance"): one queue message per
 * request, plus the consumer's commit per message, cost ~80 % of a small
 * app's throughput and left the consumer minutes behind under load. A batch
 * costs about the same whatever its size: ~2.3 ms of CPU on a file KV, 60 %
 * of it Deno's own queue (enqueue, dequeue, ack), the rest the consumer's
 * read and commit; the per-event work is ~1 µs. So the send interval sets
 * the cost: at 1500 req/s, analytics took 22 µs of CPU per request with
 * sends 100 ms apart, 5.4 µs at 500 ms (the real proxy spends ~400 µs).
 *
 * What a crash can lose: an idle server sends each event at once, so nothing
 * waits in memory longer than one KV write, as with a write per request.
 * Under load, sends are at least usageSendIntervalMs (500 ms; runtime.ts) apart, so up to
 * that much finished traffic waits in memory; that bounded window is the
 * price of the throughput target. main.ts awaits flushUsage() on shutdown,
 * so a graceful stop loses nothing.
 *
 * Failures: if enqueueing fails, the batch is ingested directly; if that
 * fails too (KV down), every event is logged (ids, counters, no secrets).
 * Where the KV has no queues (Deno Deploy, KV Connect, or a KV found at run
 * time to refuse them: see src/kv/queues.ts), batches are ingested directly.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import { randomId } from "../crypto.ts";
import type { ProviderId } from "../model/providers.ts";
import {
  aggregateEvents,
  deltaKeyOf,
  ingestUsage,
  type UsageBatch,
  usageMessage,
} from "./ingest.ts";
import { MAX_DIM_LENGTH } from "./buckets.ts";
import { normalizeClient, normalizeUserAgent } from "./client_info.ts";
import { isQueueUnsupportedError, kvHasQueues, markQueuesUnavailable } from "../kv/queues.ts";
import { runtimeSlot } from "../runtime.ts";
import type { UsageEvent } from "./types.ts";
import { observeRequest } from "../metrics/metrics.ts";

/**
 * Deltas per queue message: with its seven dimensions capped at 200
 * characters (client 64) a delta serialises to at most about 1.5 KiB, so a
 * message stays well under 64 KiB (tests/usage/client_usage_test.ts).
 */
export const MAX_DELTAS_PER_MESSAGE = 32;

/**
 * Redelivery after a failed consumer run: 1 s, 5 s, 30 s, 2 min, 10 min (Deno
 * allows five). After that the batch is parked at keys.usageUndelivered and
 * the daily retention job ingests it.
 */
const USAGE_BACKOFF_MS = [1_000, 5_000, 30_000, 120_000, 600_000];

interface Sender {
  buffer: UsageEvent[];
  running: Promise<void> | undefined;
  /** performance.now() of the last send's start. */
  lastSend: number;
}

/**
 * This app's sender. Sends are at least deps.runtime.usageSendIntervalMs
 * apart: an idle server sends an event at once; under load, the events of
 * up to this long travel together.
 */
const SENDER = runtimeSlot("usage.sender", (): Sender => ({
  buffer: [],
  running: undefined,
  lastSend: -Infinity,
}));

const cap = <T extends string | null>(s: T): T =>
  (typeof s === "string" && s.length > MAX_DIM_LENGTH ? s.slice(0, MAX_DIM_LENGTH) : s) as T;

/** Records one finished request. Never throws and never waits for KV. */
export function recordUsage(deps: Deps, event: UsageEvent): Promise<void> {
  try {
    observeRequest(deps, event);
    const sender = deps.runtime.get(SENDER);
    sender.buffer.push({
      ...event,
      id: cap(event.id),
      keyId: cap(event.keyId),
      accountId: cap(event.accountId),
      model: cap(event.model),
      endpoint: cap(event.endpoint),
      client: normalizeClient(event.client),
      userAgent: normalizeUserAgent(event.userAgent),
    });
    if (!sender.running) sender.running = drain(deps, sender);
  } catch (error) {
    logLost(deps, [event], error);
  }
  return Promise.resolve();
}

/** Resolves once every event this app recorded so far has been sent (tests, shutdown). */
export async function flushUsage(deps: Pick<Deps, "runtime">): Promise<void> {
  const sender = deps.runtime.get(SENDER);
  while (sender.running) await sender.running;
}

/**
 * Cuts events into message-sized groups: each group folds into at most
 * MAX_DELTAS_PER_MESSAGE deltas, so a message stays well under 64 KiB.
 */
function groups(events: UsageEvent[]): UsageEvent[][] {
  const out: UsageEvent[][] = [];
  let current: UsageEvent[] = [];
  let seen = new Set<string>();
  for (const event of events) {
    const key = deltaKeyOf(event);
    if (!seen.has(key) && seen.size >= MAX_DELTAS_PER_MESSAGE) {
      out.push(current);
      current = [];
      seen = new Set();
    }
    seen.add(key);
    current.push(event);
  }
  if (current.length > 0) out.push(current);
  return out;
}

async function drain(deps: Deps, sender: Sender): Promise<void> {
  try {
    // Let the requests finishing in this same turn join the first message.
    await Promise.resolve();
    while (sender.buffer.length > 0) {
      const wait = sender.lastSend + deps.runtime.usageSendIntervalMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      sender.lastSend = performance.now();
      const all = sender.buffer.splice(0, sender.buffer.length);
      await Promise.all(groups(all).map((events) => send(deps, randomId(deps.random), events)));
    }
  } finally {
    sender.running = undefined;
  }
}

async function send(deps: Deps, id: string, events: UsageEvent[]): Promise<void> {
  const batch: UsageBatch = { id, deltas: aggregateEvents(events) };
  if (kvHasQueues(deps)) {
    try {
      await deps.kv.enqueue(usageMessage(batch), {
        backoffSchedule: USAGE_BACKOFF_MS,
        keysIfUndelivered: [keys.usageUndelivered(batch.id)],
      });
      return;
    } catch (error) {
      if (isQueueUnsupportedError(error)) markQueuesUnavailable(deps, "enqueue refused", error);
      else {
        deps.log.warn("Could not enqueue usage; writing it directly.", {
          batchId: batch.id,
          events: events.length,
          error,
        });
      }
    }
  }
  try {
    // Same batch id as the message: if the enqueue did land after all, the
    // consumer finds the batch already applied.
    await ingestUsage(deps, batch);
  } catch (error) {
    logLost(deps, events, error);
  }
}

/** Last resort: the events go to the log, so an operator can still count them. */
function logLost(deps: Deps, events: UsageEvent[], error: unknown): void {
  try {
    for (const event of events) {
      deps.log.error("Usage event could not be stored.", { usageEvent: { ...event }, error });
    }
  } catch {
    // The logger itself failed; there is nowhere left to report to.
  }
}

export interface Refusal {
  requestId: string;
  keyId: string;
  endpoint: string;
  status: number;
  provider?: ProviderId | null;
  model?: string | null;
  /** Time from the request's start to the refusal, when the caller measured it. */
  latencyMs?: number;
  at?: number;
  /** The caller's address and User-Agent (normalised by recordUsage). */
  client?: string;
  userAgent?: string | null;
}

/**
 * Counts a request refused before any backend (401 with a known key id,
 * 403 scope, 429 limits) for its key, as a Kleis-side failure.
 */
export function recordRefusal(deps: Deps, refusal: Refusal): Promise<void> {
  return recordUsage(deps, {
    id: refusal.requestId,
    at: refusal.at ?? deps.now(),
    keyId: refusal.keyId,
    accountId: null,
    provider: refusal.provider ?? null,
    model: refusal.model ?? null,
    endpoint: refusal.endpoint,
    status: refusal.status,
    failure: "proxy",
    firstByteMs: null,
    latencyMs: refusal.latencyMs ?? 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    client: refusal.client ?? null,
    userAgent: refusal.userAgent ?? null,
  });
}

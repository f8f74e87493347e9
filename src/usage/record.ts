/**
 * recordUsage(): the request path's only usage work. The event goes into an
 * in-process buffer and the call returns at once; a sender drains the buffer
 * as queue messages, one message in flight at a time ("group commit").
 *
 * Why not one message per request: a KV write costs about as much as the
 * rest of a small proxied request, and the consumer's commit per message
 * costs as much again. Why not a timed buffer (flush every 100 ms): a process
 * that dies loses the whole buffer. With group commit an idle server sends
 * each event immediately (nothing waits in memory longer than one KV write),
 * and a busy one sends the events that finished during the previous write
 * together, so the cost per request falls as load rises. What a crash can
 * lose is the same as with a write per request: events whose write had not
 * committed yet.
 *
 * Failures: if enqueueing fails, the batch is ingested directly; if that
 * fails too (KV down), every event is logged (ids, counters, no secrets).
 * A KV Connect database has no queues, so there batches are ingested directly.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import { randomId } from "../crypto.ts";
import type { ProviderId } from "../providers/ids.ts";
import { ingestUsage, type UsageBatch, usageMessage } from "./ingest.ts";
import type { UsageEvent } from "./types.ts";

/** Events per queue message: with dimensions capped at 200 characters, well under 64 KiB. */
export const MAX_EVENTS_PER_MESSAGE = 64;
const MAX_FIELD_LENGTH = 200;

/**
 * Redelivery after a failed consumer run: 1 s, 5 s, 30 s, 2 min, 10 min (Deno
 * allows five). After that the batch is parked at keys.usageUndelivered and
 * the daily retention job ingests it.
 */
export const USAGE_BACKOFF_MS = [1_000, 5_000, 30_000, 120_000, 600_000];

interface Sender {
  buffer: UsageEvent[];
  running: Promise<void> | undefined;
}

const senders = new WeakMap<Deno.Kv, Sender>();

/** True where the KV backend has no queues (a remote KV Connect database). */
export function kvHasQueues(deps: Pick<Deps, "config">): boolean {
  return !deps.config.kvPath?.startsWith("http");
}

const cap = <T extends string | null>(s: T): T =>
  (typeof s === "string" && s.length > MAX_FIELD_LENGTH ? s.slice(0, MAX_FIELD_LENGTH) : s) as T;

/** Records one finished request. Never throws and never waits for KV. */
export function recordUsage(deps: Deps, event: UsageEvent): Promise<void> {
  try {
    let sender = senders.get(deps.kv);
    if (!sender) {
      sender = { buffer: [], running: undefined };
      senders.set(deps.kv, sender);
    }
    sender.buffer.push({
      ...event,
      id: cap(event.id),
      keyId: cap(event.keyId),
      accountId: cap(event.accountId),
      model: cap(event.model),
      endpoint: cap(event.endpoint),
    });
    if (!sender.running) sender.running = drain(deps, sender);
  } catch (error) {
    logLost(deps, [event], error);
  }
  return Promise.resolve();
}

/** Resolves once every event recorded so far on this KV has been sent (tests, shutdown). */
export async function flushUsage(kv: Deno.Kv): Promise<void> {
  const sender = senders.get(kv);
  while (sender?.running) await sender.running;
}

async function drain(deps: Deps, sender: Sender): Promise<void> {
  try {
    // Let the requests finishing in this same turn join the first message.
    await Promise.resolve();
    while (sender.buffer.length > 0) {
      const all = sender.buffer.splice(0, sender.buffer.length);
      const batches: UsageBatch[] = [];
      for (let i = 0; i < all.length; i += MAX_EVENTS_PER_MESSAGE) {
        batches.push({
          id: randomId(deps.random),
          events: all.slice(i, i + MAX_EVENTS_PER_MESSAGE),
        });
      }
      await Promise.all(batches.map((batch) => send(deps, batch)));
    }
  } finally {
    sender.running = undefined;
  }
}

async function send(deps: Deps, batch: UsageBatch): Promise<void> {
  if (kvHasQueues(deps)) {
    try {
      await deps.kv.enqueue(usageMessage(batch), {
        backoffSchedule: USAGE_BACKOFF_MS,
        keysIfUndelivered: [keys.usageUndelivered(batch.id)],
      });
      return;
    } catch (error) {
      deps.log.warn("Could not enqueue usage; writing it directly.", {
        batchId: batch.id,
        events: batch.events.length,
        error,
      });
    }
  }
  try {
    // Same batch id as the message: if the enqueue did land after all, the
    // consumer finds the batch already applied.
    await ingestUsage(deps, batch);
  } catch (error) {
    logLost(deps, batch.events, error);
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
  });
}

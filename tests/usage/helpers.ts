/** Shared helpers of the usage tests: synthetic traffic with known totals, and waiting. */
import type { Deps } from "../../src/deps.ts";
import { keys } from "../../src/kv/keys.ts";
import type { ProviderId } from "../../src/model/providers.ts";
import type { UsageEvent } from "../../src/usage/types.ts";
import { queryUsage, type UsageCounters } from "../../src/usage/query.ts";
import { aggregateEvents, type IngestOptions, ingestUsage } from "../../src/usage/ingest.ts";

/** Aggregates events and ingests them as one batch with this id. */
export function ingestEvents(
  deps: Deps,
  id: string,
  events: UsageEvent[],
  options: IngestOptions = {},
): Promise<void> {
  return ingestUsage(deps, { id, deltas: aggregateEvents(events) }, options);
}

export const KEY_IDS = ["key_alpha", "key_beta", "key_gamma"] as const;
export const ACCOUNTS = [
  { id: "acct_codex", provider: "codex" as ProviderId, endpoint: "/openai/v1/responses" },
  { id: "acct_claude", provider: "claude" as ProviderId, endpoint: "/anthropic/v1/messages" },
] as const;
export const MODELS = ["model-a", "model-b", "model-c"] as const;

/** Stores minimal key and account records so labels and 404 checks have something to find. */
export async function seedKeysAndAccounts(kv: Deno.Kv): Promise<void> {
  for (const id of KEY_IDS) await kv.set(keys.apiKey(id), { id, label: `Label ${id}` });
  for (const a of ACCOUNTS) {
    await kv.set(keys.account(a.id), { id: a.id, provider: a.provider, label: `Acct ${a.id}` });
  }
}

/** n events spread over the `spanMs` before `now`, with deterministic, varied fields. */
export function syntheticEvents(
  n: number,
  now: number,
  spanMs: number,
  prefix = "req",
): UsageEvent[] {
  const statuses = [200, 200, 200, 200, 200, 200, 429, 500, 400, 201];
  return Array.from({ length: n }, (_, i) => {
    const account = ACCOUNTS[i % 2]!;
    const status = statuses[i % statuses.length]!;
    const failure = status === 429 || status === 400
      ? "proxy"
      : status === 500
      ? "backend"
      : "none";
    return {
      id: `${prefix}_${i}`,
      at: now - Math.floor((i * 7919) % spanMs),
      keyId: KEY_IDS[i % 3]!,
      accountId: account.id,
      provider: account.provider,
      model: MODELS[(i * 5) % 3]!,
      endpoint: account.endpoint,
      status,
      failure,
      firstByteMs: i % 4 === 0 ? null : 10 + (i % 50),
      attempts: i % 5 === 0 ? 2 + (i % 3) : 1,
      latencyMs: 100 + (i % 997),
      inputTokens: 10 + (i % 13),
      outputTokens: 5 + (i % 29),
      cacheReadTokens: i % 3 === 0 ? 100 : 0,
      cacheWriteTokens: i % 7,
    } satisfies UsageEvent;
  });
}

type Additive = Omit<UsageCounters, "avgLatencyMs" | "maxLatencyMs" | "avgFirstByteMs">;

/** What the usage API must answer for these events, computed independently of the code under test. */
export function expectedCounters(events: UsageEvent[]): UsageCounters {
  const t: Additive = {
    requests: 0,
    status2xx: 0,
    status4xx: 0,
    status5xx: 0,
    status429: 0,
    proxyErrors: 0,
    backendErrors: 0,
    retries: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  };
  let latency = 0, maxLatency = 0, firstByte = 0, firstByteCount = 0;
  for (const e of events) {
    t.requests++;
    if (e.status >= 200 && e.status < 300) t.status2xx++;
    if (e.status >= 400 && e.status < 500) t.status4xx++;
    if (e.status >= 500) t.status5xx++;
    if (e.status === 429) t.status429++;
    if (e.failure === "proxy") t.proxyErrors++;
    if (e.failure === "backend") t.backendErrors++;
    if (e.attempts !== undefined && e.attempts > 1) t.retries += e.attempts - 1;
    t.inputTokens += e.inputTokens;
    t.outputTokens += e.outputTokens;
    t.cacheReadTokens += e.cacheReadTokens;
    t.cacheWriteTokens += e.cacheWriteTokens;
    latency += e.latencyMs;
    maxLatency = Math.max(maxLatency, e.latencyMs);
    if (e.firstByteMs !== null) {
      firstByte += e.firstByteMs;
      firstByteCount++;
    }
  }
  return {
    ...t,
    avgLatencyMs: t.requests ? Math.round(latency / t.requests) : 0,
    maxLatencyMs: maxLatency,
    avgFirstByteMs: firstByteCount ? Math.round(firstByte / firstByteCount) : 0,
  };
}

/** Groups events by a field and computes each group's expected counters. */
export function expectedGroups(
  events: UsageEvent[],
  by: (e: UsageEvent) => string,
): Map<string, UsageCounters> {
  const groups = new Map<string, UsageEvent[]>();
  for (const e of events) groups.set(by(e), [...(groups.get(by(e)) ?? []), e]);
  return new Map([...groups].map(([k, list]) => [k, expectedCounters(list)]));
}

/** Polls until the usage totals of the window reach `requests` (the consumer is asynchronous). */
export async function waitForRequests(
  deps: Pick<Deps, "kv" | "now">,
  requests: number,
  windowMs: number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await queryUsage(deps, { windowMs });
    if (answer.totals.requests >= requests) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`Usage did not reach ${requests} requests within ${timeoutMs} ms.`);
}

/** A KV whose chosen methods fail, to simulate an enqueue failure or a KV outage. */
export function failingKv(kv: Deno.Kv, failing: (keyof Deno.Kv)[]): Deno.Kv {
  return new Proxy(kv, {
    get(target, property) {
      if (failing.includes(property as keyof Deno.Kv)) {
        return () => {
          throw new Error(`injected ${String(property)} failure`);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Per-key limits: requests per UTC minute and concurrent requests, enforced
 * exactly across instances with versionstamp-checked KV writes (see
 * limiter.ts); tokens per day through the usage area's checkTokenBudget.
 */
import type { Deps } from "../deps.ts";
import { randomId } from "../crypto.ts";
import { checkTokenBudget } from "../usage/token_budget.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import { KeyLimiter } from "./limiter.ts";

export { SLOT_TTL_MS } from "./limiter.ts";

export interface KeyLease {
  /** Frees the concurrency slot (idempotent; a no-op when none was taken). */
  release(): Promise<void>;
}

const NOOP_LEASE: KeyLease = { release: () => Promise.resolve() };
const MAX_IDLE_LIMITERS = 1000;

/** Per app instance (deps), per key. */
const limiters = new WeakMap<Deps, Map<string, KeyLimiter>>();

function limiterFor(deps: Deps, keyId: string): KeyLimiter {
  let byKey = limiters.get(deps);
  if (!byKey) limiters.set(deps, byKey = new Map());
  let limiter = byKey.get(keyId);
  if (!limiter) {
    if (byKey.size >= MAX_IDLE_LIMITERS) {
      for (const [id, l] of byKey) if (!l.running) byKey.delete(id);
    }
    limiter = new KeyLimiter(deps, keyId);
    byKey.set(keyId, limiter);
  }
  return limiter;
}

/** One admission per request: the record object read for a request stands for that request. */
const leases = new WeakMap<ApiKeyRecord, Promise<KeyLease>>();

/**
 * Admits one request for the key or throws 429 (Retry-After: seconds to the
 * next minute for requestsPerMinute, 1 for concurrent; the usage area's
 * answer for tokensPerDay). Calling it again for the same record object
 * (the one apiKeyAuth put on the request) returns the same lease, so a route
 * may call it after the middleware without counting the request twice.
 */
export function acquireKeyLimits(deps: Deps, key: ApiKeyRecord): Promise<KeyLease> {
  let lease = leases.get(key);
  if (!lease) {
    lease = admit(deps, key);
    leases.set(key, lease);
  }
  return lease;
}

async function admit(deps: Deps, key: ApiKeyRecord): Promise<KeyLease> {
  const limits = key.limits;
  if (!limits) return NOOP_LEASE;
  // Before the counters, so a request refused for tokens uses up no request or slot.
  if (limits.tokensPerDay !== undefined) await checkTokenBudget(deps, key);
  const { requestsPerMinute: rpm, concurrent } = limits;
  if (rpm === undefined && concurrent === undefined) return NOOP_LEASE;

  const limiter = limiterFor(deps, key.id);
  if (concurrent === undefined && rpm !== undefined && limiter.take(rpm, deps.now())) {
    return NOOP_LEASE;
  }
  const requestId = concurrent === undefined ? "" : randomId(deps.random);
  await new Promise<void>((resolve, reject) => {
    limiter.submit({
      kind: "acquire",
      limits,
      requestId,
      done: (error) => error ? reject(error) : resolve(),
    });
  });
  if (concurrent === undefined) return NOOP_LEASE;

  let released: Promise<void> | undefined;
  return {
    release: () =>
      released ??= new Promise<void>((resolve) => {
        limiterFor(deps, key.id).submit({ kind: "release", requestId, rounds: 0, done: resolve });
      }),
  };
}

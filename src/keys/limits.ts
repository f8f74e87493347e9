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
import { runtimeSlot } from "../runtime.ts";

export { SLOT_TTL_MS } from "./limiter.ts";

export interface KeyLease {
  /** Frees the concurrency slot (idempotent; a no-op when none was taken). */
  release(): Promise<void>;
}

const NOOP_LEASE: KeyLease = { release: () => Promise.resolve() };
const MAX_IDLE_LIMITERS = 1000;

/** This app's limiters, by key id. */
const LIMITERS = runtimeSlot("keys.limiters", () => new Map<string, KeyLimiter>());

function limiterFor(deps: Deps, keyId: string): KeyLimiter {
  const byKey = deps.runtime.get(LIMITERS);
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

/**
 * Admits one request for the key (by its id, under the limits of the record
 * as read for this request) or throws 429 (Retry-After: seconds to the next
 * minute for requestsPerMinute, 1 for concurrent; the usage area's answer
 * for tokensPerDay). Every call is one admission: the caller keeps the lease
 * for its request (the key middleware puts it on the request as keyLease).
 */
export async function acquireKeyLimits(
  deps: Deps,
  key: Pick<ApiKeyRecord, "id" | "limits">,
): Promise<KeyLease> {
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

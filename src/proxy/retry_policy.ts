/**
 * Transient backend failures: a 500, 502, 503 or 504 (any backend) or a 529
 * (Claude "overloaded") says nothing about the account, only that the
 * backend could not answer this time. While no byte has gone to the client,
 * the engine tries the same account again after a short jittered pause, at
 * most `triesPerAccount` tries in all, and then moves on to the next account
 * as it does after a 429; without setting a cooldown, since a transient
 * failure is no sign the account is spent. When no other account is left,
 * the backend's own error answer goes to the client.
 *
 * Never retried: a 4xx (a 400 is the backend's verdict on the request), and
 * anything after the first byte went out (a stream that breaks off).
 */

export interface RetryPolicy {
  /** Tries on one account before moving on (the first one included). */
  triesPerAccount: number;
  /** Pause before the first retry; doubles per retry, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Uniform in [0, 1): the jitter. */
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  triesPerAccount: 2,
  baseDelayMs: 250,
  maxDelayMs: 2_000,
  random: Math.random,
};

const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504, 529]);

export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUSES.has(status);
}

/**
 * The pause before retry number `retry` (1 for the first): the exponential
 * step times a factor in [0.5, 1), so clients that failed together do not
 * come back together.
 */
export function retryDelayMs(policy: RetryPolicy, retry: number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step * (0.5 + policy.random() / 2));
}

/** Waits `ms`; resolves false at once when `signal` aborts (the client left). */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (completed: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(completed);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

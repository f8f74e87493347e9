/**
 * Lockout of client addresses that send bad credentials (admin token or API
 * key). Failures are counted per scope and address in KV, so a lockout holds
 * across instances: THRESHOLD failures within WINDOW lock the address for
 * DURATION. The entry is updated with a versionstamp-checked
 * read-modify-write; expiry is decided from the stored timestamps and the
 * injected clock (expireIn only cleans up).
 *
 * Parallel guessing: the answer to a wrong credential is decided by the
 * commit that counts it, never by a count read earlier. A failure counted
 * below THRESHOLD is answered 401; the THRESHOLD-th, any failure arriving
 * while the address is locked, and one that could not be counted (heavy
 * contention) are answered 429. So at most THRESHOLD − 1 wrong credentials
 * per address are answered 401 in a window, however many arrive at once and
 * on however many instances. Before a credential is judged, the instance's
 * AttemptGate (src/auth/attempt_gate.ts) lets one unverified attempt per
 * address in at a time, so a right credential sent amid a burst is judged
 * after the lockout the burst caused. Across instances the margin is one
 * attempt per other instance: an attempt in flight on instance B when A
 * commits the lockout was judged against the count B read (answered 429 if
 * wrong, admitted if right). Two instances: at most THRESHOLD + 1 credentials
 * judged per window.
 */
import type { Deps } from "../deps.ts";
import { type AuditInput, auditRecord } from "../audit.ts";
import { tooManyRequests } from "../errors.ts";
import { keys } from "../kv/keys.ts";

export type LockoutScope = "admin" | "key";

export const LOCKOUT_THRESHOLD = 10;
export const LOCKOUT_WINDOW_MS = 5 * 60_000;
export const LOCKOUT_DURATION_MS = 15 * 60_000;
const MAX_ATTEMPTS = 10;

export interface LockoutEntry {
  /** Times of recent failures (within the window), oldest first. */
  failures: number[];
  /** Set while the address is locked out. */
  lockedUntil?: number;
}

/** Milliseconds the address is still locked out for (0 when it is not). */
export function lockoutRemainingMs(entry: LockoutEntry | null | undefined, now: number): number {
  if (!entry?.lockedUntil || entry.lockedUntil <= now) return 0;
  return entry.lockedUntil - now;
}

const MESSAGES: Record<LockoutScope, string> = {
  admin: "Too many failed admin sign-ins from this address; try again later.",
  key: "Too many requests with invalid API keys from this address; try again later.",
};

/** Throws 429 with Retry-After when the entry says the address is locked out. */
export function assertNotLockedOut(
  scope: LockoutScope,
  entry: LockoutEntry | null | undefined,
  now: number,
): void {
  const remaining = lockoutRemainingMs(entry, now);
  if (remaining > 0) throw tooManyRequests("locked_out", MESSAGES[scope], remaining / 1000);
}

/** The 429 for a failure answered with a lockout (`retryAfterMs` as recordAuthFailure returned). */
export function throwLockedOut(scope: LockoutScope, retryAfterMs = LOCKOUT_DURATION_MS): never {
  throw tooManyRequests("locked_out", MESSAGES[scope], retryAfterMs / 1000);
}

/** Retry-After of a failure that could not be counted: the next one will be. */
const UNCOUNTED_RETRY_MS = 1000;

/**
 * Counts one failure and decides its answer. Returns 0 when the failure was
 * counted below the threshold (answer 401), otherwise the milliseconds the
 * caller must wait (answer 429): the full lockout when this failure started
 * it (its audit entry is written in the same commit, so it is written once),
 * what is left of a lockout already in force (nothing more is counted), or
 * UNCOUNTED_RETRY_MS when contention kept the failure from being counted
 * (refused rather than judged uncounted). `failureAudit`, when given, is
 * appended with the failure itself, so only counted failures are audited.
 */
export async function recordAuthFailure(
  deps: Deps,
  scope: LockoutScope,
  address: string,
  failureAudit?: AuditInput,
): Promise<number> {
  const key = keys.lockout(scope, address);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await deps.kv.get<LockoutEntry>(key);
    const now = deps.now();
    // Already locked (by a failure counted since the caller's check): refuse, count nothing.
    const remaining = lockoutRemainingMs(current.value, now);
    if (remaining > 0) return remaining;
    const failures = (current.value?.failures ?? []).filter((t) => t > now - LOCKOUT_WINDOW_MS);
    failures.push(now);
    const locks = failures.length >= LOCKOUT_THRESHOLD;
    const next: LockoutEntry = locks ? { failures: [], lockedUntil: now + LOCKOUT_DURATION_MS } : {
      failures: failures.slice(-LOCKOUT_THRESHOLD),
    };
    const op = deps.kv.atomic().check(current).set(key, next, {
      expireIn: locks ? LOCKOUT_DURATION_MS : LOCKOUT_WINDOW_MS,
    });
    if (failureAudit) {
      const audit = auditRecord(deps, failureAudit);
      op.set(audit.key, audit.value, { expireIn: audit.expireIn });
    }
    if (locks) {
      const audit = auditRecord(deps, {
        action: scope === "admin" ? "admin.lockout" : "key.auth_lockout",
        actor: "system",
        target: address,
        address,
        details: { failures: LOCKOUT_THRESHOLD, lockedUntil: now + LOCKOUT_DURATION_MS },
      });
      op.set(audit.key, audit.value, { expireIn: audit.expireIn });
    }
    if ((await op.commit()).ok) {
      if (locks) {
        deps.log.warn("Address locked out after repeated bad credentials.", { scope, address });
      }
      return locks ? LOCKOUT_DURATION_MS : 0;
    }
    await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
  }
  // Contention this heavy means many failures at once: refuse this one
  // rather than answer it uncounted.
  deps.log.warn("Could not record an authentication failure (contention).", { scope, address });
  return UNCOUNTED_RETRY_MS;
}

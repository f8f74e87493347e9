/**
 * Per-key limits: requests per UTC minute and concurrent requests, enforced
 * exactly across instances with versionstamp-checked KV writes; tokens per
 * day through the usage area's checkTokenBudget.
 *
 * Requests for one key on one instance go through a small combiner
 * (KeyLimiter): whatever arrives while a commit is in flight is decided
 * together in the next commit. That keeps admission exact (no
 * over-admission), costs at most one KV write per request (usually less),
 * and leaves CAS conflicts only between instances. The limiter remembers
 * the value and versionstamp it last committed, so on a quiet instance it
 * writes without reading first; a stale guess just fails the check and is
 * re-read.
 */
import type { Deps } from "../deps.ts";
import { randomId } from "../crypto.ts";
import { type KleisError, tooManyRequests } from "../errors.ts";
import { keys } from "../kv/keys.ts";
import { checkTokenBudget } from "../usage/token_budget.ts";
import type { ApiKeyRecord, KeyLimits } from "./types.ts";

export interface KeyLease {
  /** Frees the concurrency slot (idempotent; a no-op when none was taken). */
  release(): Promise<void>;
}

/** A crashed process's slots free themselves after this long. */
export const SLOT_TTL_MS = 15 * 60_000;
const MINUTE_MS = 60_000;
const MAX_ATTEMPTS = 10;
const MAX_RELEASE_ROUNDS = 5;
const MAX_IDLE_LIMITERS = 1000;

/** requestId → deadline (ms). */
export type SlotMap = Record<string, number>;

const NOOP_LEASE: KeyLease = { release: () => Promise.resolve() };

type Acquire = {
  kind: "acquire";
  limits: KeyLimits;
  requestId: string;
  done: (error?: KleisError) => void;
};
type Release = { kind: "release"; requestId: string; rounds: number; done: () => void };
type Waiter = Acquire | Release;

interface Known<T> {
  value: T;
  versionstamp: string | null;
}

class KeyLimiter {
  pending: Waiter[] = [];
  running = false;
  rpm: (Known<number> & { minute: number }) | undefined;
  slots: Known<SlotMap> | undefined;

  constructor(readonly deps: Deps, readonly keyId: string) {}

  submit(waiter: Waiter): void {
    this.pending.push(waiter);
    if (!this.running) {
      this.running = true;
      void this.drain();
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        try {
          await this.decide(batch);
        } catch (error) {
          // KV failed (closed, unreachable): forget what we believed was stored.
          this.rpm = undefined;
          this.slots = undefined;
          this.fail(batch, error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async decide(batch: Waiter[]): Promise<void> {
    const { kv } = this.deps;
    const rpmUsed = batch.some((w) => w.kind === "acquire" && w.limits.requestsPerMinute);
    const slotsUsed = batch.some((w) => w.kind === "release" || w.limits.concurrent);
    let mustRead = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const now = this.deps.now();
      const minute = Math.floor(now / MINUTE_MS);
      const rpmKey = keys.requestsInMinute(this.keyId, minute);
      const slotsKey = keys.concurrentSlots(this.keyId);

      // What we believe is stored: our last commit, "nothing" for a new
      // minute, or a read when we know nothing (or a guess just failed).
      const readNow = mustRead || (rpmUsed && this.rpm === undefined) ||
        (slotsUsed && this.slots === undefined);
      mustRead = false;
      if (readNow) {
        const [rpmEntry, slotsEntry] = await kv.getMany<[number, SlotMap]>([rpmKey, slotsKey]);
        this.rpm = { minute, value: rpmEntry.value ?? 0, versionstamp: rpmEntry.versionstamp };
        this.slots = { value: slotsEntry.value ?? {}, versionstamp: slotsEntry.versionstamp };
      } else if (rpmUsed && this.rpm && this.rpm.minute !== minute) {
        this.rpm = { minute, value: 0, versionstamp: null };
      }

      let count = this.rpm?.minute === minute ? this.rpm.value : 0;
      const slots: SlotMap = {};
      let slotsChanged = false;
      for (const [id, deadline] of Object.entries(this.slots?.value ?? {})) {
        if (deadline > now) slots[id] = deadline;
        else slotsChanged = true;
      }
      let countChanged = false;
      let slotsFull = false;
      const outcomes: [Waiter, KleisError | undefined][] = [];
      for (const w of batch) {
        if (w.kind === "release") {
          if (w.requestId in slots) {
            delete slots[w.requestId];
            slotsChanged = true;
          }
          outcomes.push([w, undefined]);
          continue;
        }
        const { requestsPerMinute: rpm, concurrent } = w.limits;
        if (rpm !== undefined && count >= rpm) {
          const wait = ((minute + 1) * MINUTE_MS - now) / 1000;
          outcomes.push([w, rpmExceeded(rpm, wait)]);
        } else if (concurrent !== undefined && Object.keys(slots).length >= concurrent) {
          slotsFull = true;
          outcomes.push([w, concurrencyExceeded(concurrent)]);
        } else {
          if (rpm !== undefined) {
            count++;
            countChanged = true;
          }
          if (concurrent !== undefined) {
            slots[w.requestId] = now + SLOT_TTL_MS;
            slotsChanged = true;
          }
          outcomes.push([w, undefined]);
        }
      }

      if (slotsFull && !readNow) {
        // Another instance may have freed slots since our last commit.
        mustRead = true;
        continue;
      }
      if (!countChanged && !slotsChanged) {
        // A refusal from a possibly stale counter is still right: it only
        // grows within a minute. Nothing to write.
        for (const [w, error] of outcomes) w.done(error as KleisError);
        return;
      }
      const op = kv.atomic();
      if (countChanged && this.rpm) {
        op.check({ key: rpmKey, versionstamp: this.rpm.versionstamp })
          .set(rpmKey, count, { expireIn: 2 * MINUTE_MS });
      }
      if (slotsChanged && this.slots) {
        op.check({ key: slotsKey, versionstamp: this.slots.versionstamp });
        if (Object.keys(slots).length > 0) op.set(slotsKey, slots, { expireIn: SLOT_TTL_MS });
        else op.delete(slotsKey);
      }
      const result = await op.commit();
      if (result.ok) {
        if (countChanged) this.rpm = { minute, value: count, versionstamp: result.versionstamp };
        if (slotsChanged) {
          const empty = Object.keys(slots).length === 0;
          this.slots = { value: slots, versionstamp: empty ? null : result.versionstamp };
        }
        for (const [w, error] of outcomes) w.done(error as KleisError);
        return;
      }
      // Another instance wrote in between: read what is there and decide again.
      mustRead = true;
      await new Promise((r) => setTimeout(r, 1 + Math.random() * 4 * (attempt + 1)));
    }
    this.fail(batch, new Error("contention"));
  }

  private fail(batch: Waiter[], error: unknown): void {
    this.deps.log.warn("Could not update key limit counters.", { keyId: this.keyId, error });
    for (const w of batch) {
      if (w.kind === "acquire") {
        w.done(tooManyRequests("limits_busy", "The key's limits are busy; try again.", 1));
      } else if (w.rounds < MAX_RELEASE_ROUNDS) {
        // A slot left behind blocks the key until its deadline: keep trying.
        this.pending.push({ ...w, rounds: w.rounds + 1 });
      } else {
        w.done();
      }
    }
  }
}

function rpmExceeded(limit: number, seconds: number): KleisError {
  return tooManyRequests(
    "rate_limit_exceeded",
    `This API key allows ${limit} requests per minute; try again in ${Math.ceil(seconds)} s.`,
    seconds,
  );
}

function concurrencyExceeded(limit: number): KleisError {
  return tooManyRequests(
    "concurrency_limit_exceeded",
    `This API key allows ${limit} concurrent requests; try again when one has finished.`,
    1,
  );
}

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
  if (limits.tokensPerDay !== undefined) await checkTokenBudget(deps, key);
  if (limits.requestsPerMinute === undefined && limits.concurrent === undefined) return NOOP_LEASE;

  const limiter = limiterFor(deps, key.id);
  const requestId = limits.concurrent === undefined ? "" : randomId(deps.random);
  await new Promise<void>((resolve, reject) => {
    limiter.submit({
      kind: "acquire",
      limits,
      requestId,
      done: (error) => error ? reject(error) : resolve(),
    });
  });
  if (limits.concurrent === undefined) return NOOP_LEASE;

  let released: Promise<void> | undefined;
  return {
    release: () =>
      released ??= new Promise<void>((resolve) => {
        limiterFor(deps, key.id).submit({ kind: "release", requestId, rounds: 0, done: resolve });
      }),
  };
}

/** Whether acquiring limits for this key involves any counter (for callers deciding on wrapping). */
export function hasCountedLimits(key: ApiKeyRecord): boolean {
  return key.limits?.requestsPerMinute !== undefined || key.limits?.concurrent !== undefined;
}

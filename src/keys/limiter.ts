/**
 * KeyLimiter: the per-instance, per-key combiner behind acquireKeyLimits().
 *
 * Requests that arrive while a commit is in flight are decided together in
 * the next commit, so admission is exact (never over the limit), costs at
 * most one KV write per request, and CAS conflicts only happen between
 * instances. The limiter remembers the value and versionstamp it last
 * committed, so a quiet instance writes without reading first; a stale
 * guess fails its check and is re-read.
 *
 * requestsPerMinute far from its limit: each commit also reserves a block
 * of admissions (counted in KV at once, so still never over the limit) that
 * later requests take from memory without touching KV, refilled in the
 * background. Blocks shrink as the minute fills and stop below 64
 * remaining, so small limits are decided request by request. The cost is
 * bounded under-admission when several instances each hold a block.
 */
import type { Deps } from "../deps.ts";
import { type KleisError, tooManyRequests } from "../errors.ts";
import { keys } from "../kv/keys.ts";
import type { KeyLimits } from "../model/keys.ts";

/** A crashed process's slots free themselves after this long. */
export const SLOT_TTL_MS = 15 * 60_000;
export const MINUTE_MS = 60_000;
const MAX_ATTEMPTS = 10;
const MAX_RELEASE_ROUNDS = 5;
const MAX_BLOCK = 256;
const BLOCK_FRACTION = 32;
const MIN_REMAINING_FOR_BLOCKS = 64;

/** requestId → deadline (ms). */
export type SlotMap = Record<string, number>;

export type Waiter =
  | { kind: "acquire"; limits: KeyLimits; requestId: string; done: (e?: KleisError) => void }
  | { kind: "release"; requestId: string; rounds: number; done: () => void }
  | { kind: "reserve"; limit: number; done: () => void };

interface Known<T> {
  value: T;
  versionstamp: string | null;
}

interface Pool {
  minute: number;
  /** The requestsPerMinute the block was reserved under; another limit does not use it. */
  limit: number;
  tokens: number;
  refillBelow: number;
}

/** How many admissions to reserve ahead, given what is left of the minute. */
export function blockSize(remaining: number): number {
  if (remaining < MIN_REMAINING_FOR_BLOCKS) return 0;
  return Math.min(MAX_BLOCK, Math.floor(remaining / BLOCK_FRACTION));
}

export class KeyLimiter {
  private pending: Waiter[] = [];
  running = false;
  private refilling = false;
  private rpm: (Known<number> & { minute: number }) | undefined;
  private slots: Known<SlotMap> | undefined;
  private pool: Pool | undefined;

  constructor(readonly deps: Deps, readonly keyId: string) {}

  /** Admits from the reserved block without touching KV; false when there is none. */
  take(limit: number, now: number): boolean {
    const pool = this.pool;
    if (
      !pool || pool.tokens <= 0 || pool.limit !== limit ||
      pool.minute !== Math.floor(now / MINUTE_MS)
    ) return false;
    pool.tokens--;
    if (pool.tokens < pool.refillBelow && !this.refilling) {
      this.refilling = true;
      this.submit({ kind: "reserve", limit, done: () => this.refilling = false });
    }
    return true;
  }

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

  private async decide(input: Waiter[]): Promise<void> {
    // Requests queued while a block was being reserved take from it first.
    const now0 = this.deps.now();
    const batch = input.filter((w) => {
      if (w.kind !== "acquire" || w.limits.concurrent !== undefined) return true;
      const rpm = w.limits.requestsPerMinute;
      if (rpm === undefined || !this.take(rpm, now0)) return true;
      w.done();
      return false;
    });
    if (batch.length === 0) return;

    const rpmUsed = batch.some((w) =>
      w.kind === "reserve" || (w.kind === "acquire" && w.limits.requestsPerMinute !== undefined)
    );
    const slotsUsed = batch.some((w) =>
      w.kind === "release" || (w.kind === "acquire" && w.limits.concurrent !== undefined)
    );
    let mustRead = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const { kv } = this.deps;
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
      let blockLimit: number | undefined;
      const outcomes: [Waiter, KleisError | undefined][] = [];
      for (const w of batch) {
        if (w.kind === "reserve") {
          blockLimit = w.limit;
          outcomes.push([w, undefined]);
          continue;
        }
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
          outcomes.push([w, rpmExceeded(rpm, ((minute + 1) * MINUTE_MS - now) / 1000)]);
        } else if (concurrent !== undefined && Object.keys(slots).length >= concurrent) {
          slotsFull = true;
          outcomes.push([w, concurrencyExceeded(concurrent)]);
        } else {
          if (rpm !== undefined) {
            count++;
            countChanged = true;
            if (concurrent === undefined) blockLimit = rpm;
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
      const block = blockLimit === undefined ? 0 : blockSize(blockLimit - count);
      if (block > 0) {
        count += block;
        countChanged = true;
      }
      if (!countChanged && !slotsChanged) {
        // A refusal from a possibly stale counter is still right: it only
        // grows within a minute. Nothing to write.
        for (const [w, error] of outcomes) w.done(error);
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
        if (block > 0 && blockLimit !== undefined) this.addToPool(minute, blockLimit, block);
        for (const [w, error] of outcomes) w.done(error);
        return;
      }
      // Another instance wrote in between: read what is there and decide again.
      mustRead = true;
      await new Promise((r) => setTimeout(r, 1 + Math.random() * 4 * (attempt + 1)));
    }
    this.fail(batch, new Error("Too much contention on the key's limit counters."));
  }

  private addToPool(minute: number, limit: number, tokens: number): void {
    const pool = this.pool;
    if (pool && pool.minute === minute && pool.limit === limit) {
      pool.tokens += tokens;
      pool.refillBelow = Math.floor(tokens / 2);
    } else {
      this.pool = { minute, limit, tokens, refillBelow: Math.floor(tokens / 2) };
    }
  }

  private fail(batch: Waiter[], error: unknown): void {
    this.deps.log.warn("Could not update key limit counters.", { keyId: this.keyId, error });
    for (const w of batch) {
      if (w.kind === "acquire") {
        w.done(tooManyRequests("limits_busy", "The key's limits are busy; try again.", 1));
      } else if (w.kind === "release" && w.rounds < MAX_RELEASE_ROUNDS) {
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

/**
 * A lease in KV held by one instance at a time: {owner, until}. A lease
 * whose `until` has passed (its holder died) may be taken over. The
 * expireIn only cleans up; expiry is decided from `until` and the clock.
 */
import type { Deps } from "../deps.ts";
import { randomId } from "../crypto.ts";

export interface LeaseValue {
  owner: string;
  until: number;
}

export interface Lease {
  /** The lease found when it was taken: a dead holder's, or null. */
  previous: LeaseValue | null;
  release(): Promise<void>;
}

const CLEANUP_AFTER_MS = 24 * 60 * 60_000;

/** Takes the lease, or answers undefined when a live holder has it. */
export async function takeLease(
  deps: Pick<Deps, "kv" | "now" | "random">,
  key: Deno.KvKey,
  durationMs: number,
): Promise<Lease | undefined> {
  const current = await deps.kv.get<LeaseValue>(key);
  if (current.value && current.value.until > deps.now()) return undefined;
  const mine: LeaseValue = { owner: randomId(deps.random), until: deps.now() + durationMs };
  const taken = await deps.kv.atomic().check(current)
    .set(key, mine, { expireIn: Math.max(durationMs, CLEANUP_AFTER_MS) }).commit();
  if (!taken.ok) return undefined;
  return {
    previous: current.value,
    async release() {
      const now = await deps.kv.get<LeaseValue>(key);
      if (now.value?.owner !== mine.owner) return;
      await deps.kv.atomic().check(now).delete(key).commit();
    },
  };
}

/**
 * One attempt at a time per client address and scope, on this instance, for
 * credentials not yet known to be valid (a wrong admin token, an API key
 * whose hash this instance has not seen on a valid key).
 *
 * Why: the lockout (src/auth/lockout.ts) counts failures in KV, and a
 * credential must not be judged while failures judged before it are still
 * being counted, or a parallel burst gets every guess judged against the
 * same stale count. Through the gate, each unverified attempt reads the
 * lockout entry after the previous attempt from that address has committed
 * its failure, so on one instance no more wrong guesses are judged than the
 * lockout allows. Requests whose credential is already known good do not
 * queue; they only wait (`idle`) when unverified attempts from their
 * address are queued ahead of them, so a valid credential sent amid a burst
 * is answered in arrival order, after the lockout the burst caused, and
 * cannot reveal itself as the right guess. An address with nothing queued
 * costs one Map lookup.
 *
 * The gate holds no state for an address with nothing queued.
 */

import { type Runtime, runtimeSlot } from "../runtime.ts";

type Release = () => void;

export class AttemptGate {
  /** Per key: settles when the last attempt queued so far has finished. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Waits for every attempt queued before this one; call the result when done. */
  async acquire(key: string): Promise<Release> {
    const before = this.#tails.get(key);
    let release!: Release;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = before ? before.then(() => mine) : mine;
    this.#tails.set(key, tail);
    if (before) await before;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }

  /**
   * Settles when the attempts queued so far for `key` have finished
   * (undefined when none are: nothing to wait for). Attempts queued later
   * are not waited for, so a steady stream cannot starve the caller.
   */
  idle(key: string): Promise<void> | undefined {
    return this.#tails.get(key);
  }

  /** Keys with attempts queued or running (for tests: nothing is kept for idle keys). */
  get size(): number {
    return this.#tails.size;
  }
}

const ATTEMPT_GATE = runtimeSlot("auth.attemptGate", () => new AttemptGate());

/** The gate of one Kleis app (instance): admin tokens and API keys, keyed by scope and address. */
export function attemptGate(deps: { runtime: Runtime }): AttemptGate {
  return deps.runtime.get(ATTEMPT_GATE);
}

/** Refresh controls shared by the OpenAI and Claude token endpoints. */
import { failResponse, type FailSpec } from "./backend.ts";
import { FakeServer, type LazySignal } from "./server.ts";

export abstract class TokenEndpointFake extends FakeServer {
  /** refresh_token grant requests received (whatever their outcome). */
  refreshCount = 0;
  #holds: Promise<void>[] = [];
  #failNext: FailSpec[] = [];

  /**
   * Holds every refresh request until the returned function is called.
   *
   * The fake models a request *in flight*, not one that was processed and
   * whose answer got lost: while held nothing is rotated, the old refresh
   * token stays valid, and a client that gives up (or is killed) during the
   * hold loses nothing; the held request is then dropped unprocessed.
   */
  holdRefresh(): () => void {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    this.#holds.push(hold);
    const done = () => {
      this.#holds = this.#holds.filter((h) => h !== hold);
      this.closers.delete(done);
      release();
    };
    this.closers.add(done);
    return done;
  }

  /** The next refresh request (after any hold) answers this, and rotates nothing. */
  failNextRefresh(spec: FailSpec): void {
    this.#failNext.push(spec);
  }

  /**
   * Runs the gate for one refresh request: counts it, waits out holds, applies
   * a canned failure. Returns a response to send, `"aborted"` if the client went
   * away while held, or undefined to go on and process the refresh.
   */
  protected async gateRefresh(lazySignal: LazySignal): Promise<Response | "aborted" | undefined> {
    this.refreshCount++;
    while (this.#holds.length > 0) {
      const signal = lazySignal();
      if (signal.aborted) return "aborted";
      let onAbort = () => {};
      const aborted = new Promise<void>((resolve) => (onAbort = resolve));
      signal.addEventListener("abort", onAbort, { once: true });
      await Promise.race([Promise.all(this.#holds), aborted]);
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) return "aborted";
    }
    const fail = this.#failNext.shift();
    return fail ? failResponse(fail) : undefined;
  }
}

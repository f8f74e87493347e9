/**
 * Whether the client of a request is still there, while Kleis waits for the
 * backend's answer (docs/architecture.md#streaming). Once the answer is
 * handed to the server, a client that leaves cancels the answer's stream
 * instead (streaming.ts).
 *
 * The request's AbortSignal is the only way the runtime tells that a client
 * left before its answer, but it is costly per request: Deno.serve creates
 * it when first read, and (unless run with --unstable-no-legacy-abort)
 * aborts it after every successful answer, building a DOMException with a
 * stack. (That flag is not set: with it, streams measured about 15 % more
 * CPU in Deno 2.9.6, and Deno Deploy takes no CLI flags.) So the signal is read only for a request that
 * is still waiting on the second tick of a shared ticker (so after
 * LINK_AFTER_MS to twice that): the quick requests of a busy instance never
 * create one. A signal read late still reports a client that left earlier
 * (it aborts right after it is read), so a client that leaves is noticed at
 * most about two ticks late.
 */
import { type Ticker, tickerOf, type Watch } from "./ticker.ts";

/** The shared ticker's period; a request's signal is read on its second tick. */
export const LINK_AFTER_MS = 50;

export class ClientLink implements Watch {
  #read: (() => AbortSignal) | undefined;
  #signal: AbortSignal | undefined;
  #onGone: AbortController | undefined;
  #gone = false;
  #ticked = false;
  #ticker: Ticker | undefined;

  /** `read` gives the request's signal; it is called at most once. */
  constructor(read: () => AbortSignal) {
    this.#read = read;
    this.#ticker = tickerOf(LINK_AFTER_MS);
    this.#ticker.add(this);
  }

  /** The client is known to have left. */
  get gone(): boolean {
    return this.#gone || (this.#signal?.aborted ?? false);
  }

  /** Aborts `controller` (a backend request's) when the client leaves; replaces an earlier one. */
  abortOnGone(controller: AbortController | undefined): void {
    this.#onGone = controller;
  }

  /** The client's signal, watched from now on (for waits that take an AbortSignal). */
  signal(): AbortSignal {
    this.#ticked = true;
    this.check();
    return this.#signal!;
  }

  check(): void {
    if (!this.#ticked) {
      this.#ticked = true;
      return;
    }
    this.#ticker?.delete(this);
    this.#ticker = undefined;
    const read = this.#read;
    if (read === undefined) return;
    this.#read = undefined;
    const signal = this.#signal = read();
    if (signal.aborted) this.#left();
    else signal.addEventListener("abort", this, { once: true });
  }

  /** The request no longer waits for the backend: nothing more to watch. */
  stop(): void {
    this.#ticker?.delete(this);
    this.#ticker = undefined;
    this.#read = undefined;
    this.#onGone = undefined;
    this.#signal?.removeEventListener("abort", this);
  }

  /** The signal's abort event (the link is its own listener: no closure per request). */
  handleEvent(): void {
    this.#left();
  }

  #left(): void {
    this.#gone = true;
    const controller = this.#onGone;
    this.#onGone = undefined;
    controller?.abort();
  }
}

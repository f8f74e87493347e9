/**
 * Timers shared by every request in flight (docs/architecture.md#streaming):
 * a timer per open stream or per request costs a timer object, its closure
 * and a timer-heap update each; a shared interval timer costs a Set entry,
 * and the request only sets flags it reads. Limits therefore fire up to one
 * tick late, never early.
 */

/** Something a Ticker looks at on every tick. */
export interface Watch {
  check(): void;
}

/**
 * One interval timer for every watch with the same period. It stops on the
 * first tick that finds no watch (not at once, so that requests in a row do
 * not start and stop it each time) and is unref'd: it never keeps a process
 * alive on its own.
 */
export class Ticker {
  readonly #watches = new Set<Watch>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly periodMs: number) {}

  add(watch: Watch): void {
    this.#watches.add(watch);
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#tick(), this.periodMs);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  delete(watch: Watch): void {
    this.#watches.delete(watch);
  }

  #tick(): void {
    if (this.#watches.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    for (const w of this.#watches) w.check();
  }
}

const tickers = new Map<number, Ticker>();

/** The shared ticker for limits of `shortestMs`: a fifth of it, at least 5 ms, at most 1 s. */
export function tickerFor(shortestMs: number): Ticker {
  return tickerOf(Math.min(1000, Math.max(5, Math.floor(shortestMs / 5))));
}

/** The shared ticker of one period. */
export function tickerOf(periodMs: number): Ticker {
  let ticker = tickers.get(periodMs);
  if (!ticker) tickers.set(periodMs, ticker = new Ticker(periodMs));
  return ticker;
}

/**
 * Calls `onIdle` once `ms` pass without touch(), checked by the shared
 * ticker (up to a fifth of `ms`, at most 1 s, late; never early).
 */
export class IdleTimer implements Watch {
  #last: number;
  #touched = false;
  #stopped = false;
  readonly #ticker: Ticker;

  constructor(private readonly ms: number, private readonly onIdle: () => void) {
    this.#last = performance.now();
    this.#ticker = tickerFor(ms);
    this.#ticker.add(this);
  }

  /** Cheap enough for every chunk: the ticker reads the clock. */
  touch(): void {
    this.#touched = true;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ticker.delete(this);
  }

  check(): void {
    const now = performance.now();
    if (this.#touched) {
      this.#touched = false;
      this.#last = now;
    } else if (now - this.#last >= this.ms) {
      this.stop();
      this.onIdle();
    }
  }
}

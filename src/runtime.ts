/**
 * The per-app runtime: every cache, in-flight map and counter an app keeps
 * in memory. createDeps() builds one per app and hands it down as
 * deps.runtime, so two apps in one process (two instances on one KV file in
 * a test, say) share nothing, exactly as two processes would.
 *
 * Each area declares its own state with runtimeSlot() and reaches it with
 * deps.runtime.get(slot): the state's type stays private to the area that
 * owns it, and this module depends on nothing above it. A slot's state is
 * created on first use, so an app pays only for the areas it uses.
 *
 * What stays at module level holds no app state: compiled scope patterns
 * (keys/scopes.ts, a pure function of the pattern text), the stream
 * watchdog timers (proxy/ticker.ts, shared intervals that only check
 * each stream's own deadlines), the per-process sequence of time-ordered
 * ids (crypto.ts) and the process's id in refresh lease records
 * (accounts/refresh.ts). Objects an app builds once (the proxy engine's
 * cooldown, affinity, quota and credential caches) belong to that app's
 * engine.
 */

/** One area's state in the runtime: a name (for readers) and how to create it. */
export interface RuntimeSlot<T> {
  readonly name: string;
  readonly create: (runtime: Runtime) => T;
}

export function runtimeSlot<T>(name: string, create: (runtime: Runtime) => T): RuntimeSlot<T> {
  return { name, create };
}

export interface RuntimeOptions {
  /**
   * Least time between two usage sends from this app (default 500 ms): an
   * idle server sends an event at once; under load, the events of up to this
   * long travel together. The benchmark sets 0 to count writes per request.
   */
  usageSendIntervalMs?: number;
}

export class Runtime {
  readonly usageSendIntervalMs: number;
  readonly #state = new Map<RuntimeSlot<unknown>, unknown>();
  readonly #background = new Set<Promise<unknown>>();

  constructor(options: RuntimeOptions = {}) {
    this.usageSendIntervalMs = options.usageSendIntervalMs ?? 500;
  }

  /** The slot's state in this app, created on first use. */
  get<T>(slot: RuntimeSlot<T>): T {
    let state = this.#state.get(slot) as T | undefined;
    if (state === undefined) {
      state = slot.create(this);
      this.#state.set(slot, state);
    }
    return state;
  }

  /**
   * Registers work this app started in the background (a registry refresh),
   * so settled() can wait for it; forgotten once it ends.
   */
  track(work: Promise<unknown>): void {
    this.#background.add(work);
    const forget = () => this.#background.delete(work);
    work.then(forget, forget);
  }

  /** Resolves once no background work of this app is running (shutdown, tests). */
  async settled(): Promise<void> {
    for (let round = 0; round < 100 && this.#background.size > 0; round++) {
      await Promise.allSettled([...this.#background]);
    }
  }
}

/**
 * One usage event per proxied request
 * (docs/architecture.md#usage-through-queues-and-what-a-crash-can-lose): whatever way the
 * request ends (answered, refused by Kleis, failed at the backend, aborted
 * by the client), finish() runs once and hands the event to recordUsage
 * without making the client wait for it.
 */
import type { Deps } from "../deps.ts";
import type { ProviderId } from "../model/providers.ts";
import type { FailureSource, UsageEvent } from "../usage/types.ts";
import type { ProxyServices } from "./services.ts";
import type { TokenUsage } from "./usage_extract.ts";

/** Status recorded for a request whose client went away before the answer was complete. */
export const CLIENT_CLOSED_STATUS = 499;

export interface TrackerBase {
  requestId: string;
  keyId: string | null;
  provider: ProviderId | null;
  model: string | null;
  endpoint: string;
  /** The caller's address and User-Agent header (normalised by recordUsage). */
  client?: string | undefined;
  userAgent?: string | null | undefined;
}

const NO_TOKENS: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
};

export class RequestTracker {
  accountId: string | null = null;
  /** Known once the model id is resolved (the generic routes serve every provider). */
  provider: ProviderId | null;
  model: string | null;
  #firstByteAt: number | undefined;
  #attempts = 0;
  #finished = false;
  #onEnd: (() => void)[] = [];

  constructor(
    private readonly deps: Deps,
    private readonly services: Pick<ProxyServices, "recordUsage">,
    private readonly base: TrackerBase,
    /** Monotonic clock and the request's start on it. */
    private readonly clock: () => number,
    private readonly startedAt: number,
  ) {
    this.model = base.model;
    this.provider = base.provider;
  }

  /** Runs when the request ends (limits release, for instance). */
  onEnd(callback: () => void): void {
    this.#onEnd.push(callback);
  }

  /** One call went to the backend (a retry, a failover or a retry after a refresh each count). */
  attempt(): void {
    this.#attempts++;
  }

  firstByte(): void {
    this.#firstByteAt ??= this.clock();
  }

  finish(status: number, failure: FailureSource, tokens: TokenUsage = NO_TOKENS): void {
    if (this.#finished) return;
    this.#finished = true;
    const end = this.clock();
    const event: UsageEvent = {
      id: this.base.requestId,
      at: this.deps.now(),
      keyId: this.base.keyId,
      accountId: this.accountId,
      provider: this.provider,
      model: this.model,
      endpoint: this.base.endpoint,
      status,
      failure,
      firstByteMs: this.#firstByteAt === undefined
        ? null
        : Math.max(0, Math.round(this.#firstByteAt - this.startedAt)),
      latencyMs: Math.max(0, Math.round(end - this.startedAt)),
      attempts: this.#attempts,
      client: this.base.client ?? null,
      userAgent: this.base.userAgent ?? null,
      ...tokens,
    };
    try {
      this.services.recordUsage(this.deps, event).catch((error) =>
        this.deps.log.warn("Usage could not be recorded.", { requestId: event.id, error })
      );
    } catch (error) {
      this.deps.log.warn("Usage could not be recorded.", { requestId: event.id, error });
    }
    for (const callback of this.#onEnd) {
      try {
        callback();
      } catch (error) {
        this.deps.log.warn("A request end callback failed.", { error });
      }
    }
  }
}

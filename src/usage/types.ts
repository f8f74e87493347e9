import type { ProviderId } from "../model/providers.ts";

/** Who caused a failed request: Kleis itself, or the backend. */
export type FailureSource = "none" | "proxy" | "backend";

/** One finished request, as the proxy reports it to recordUsage(). */
export interface UsageEvent {
  /** The request id (x-kleis-request-id); also the idempotency key of ingestion. */
  id: string;
  /** When the response ended, ms since the epoch. */
  at: number;
  keyId: string | null;
  accountId: string | null;
  provider: ProviderId | null;
  model: string | null;
  /** Kleis route, e.g. "/openai/v1/responses". */
  endpoint: string;
  status: number;
  failure: FailureSource;
  firstByteMs: number | null;
  latencyMs: number;
  /**
   * Calls made to the backend for this request: 1 normally, more after a
   * transient-failure retry, a failover or a token refresh; 0 when Kleis
   * answered itself. Absent in events recorded before it existed.
   */
  attempts?: number;
  /**
   * The client's address and User-Agent (client_info.ts normalises them);
   * absent in events recorded before they were kept.
   */
  client?: string | null;
  userAgent?: string | null;
  /** Input tokens neither read from nor written to the prompt cache. */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

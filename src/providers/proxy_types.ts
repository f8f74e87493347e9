/**
 * The proxy side of a provider adapter: everything the engine needs to know
 * about one backend (request rewrites, headers, answer rewrites, how its
 * errors signal exhaustion, where its quota headroom is) and nothing about
 * accounts, KV, streaming or failover, which the engine (src/proxy) owns.
 */
import type { UpstreamOrigins } from "../config.ts";
import type { AccountRecord, UpstreamCredentials } from "../model/accounts.ts";
import type { ErrorStyle } from "../errors.ts";
import type { SseEvent } from "../sse.ts";
import type { ProviderId } from "../model/providers.ts";
import type { QuotaReading } from "../model/quota.ts";

/** Where each provider's API lives on Kleis (proxy routes, model lists, /api.json). */
export const PROXY_ROUTE_PREFIX: Record<ProviderId, string> = {
  codex: "/openai/v1",
  claude: "/anthropic/v1",
  copilot: "/copilot/v1",
};

/**
 * The API shape of an answer, which decides how usage is read from it and how
 * an error is written into a stream of it.
 */
export type AnswerShape = "responses" | "messages" | "chat" | "count_tokens";

/** A client request after the generic checks (key, JSON body, string model, scopes). */
export interface ClientCall {
  /** Endpoint below the provider's prefix: "/responses", "/messages", "/messages/count_tokens", "/chat/completions". */
  endpoint: string;
  /** The client's request headers (read only; never forwarded wholesale). */
  headers: Headers;
  /** The parsed JSON body; adapters copy before changing it. */
  body: Record<string, unknown>;
  /** The body as the client sent it, forwarded as is when an adapter changes nothing. */
  rawBody: string;
  /** The model id with any accepted prefix already stripped. */
  model: string;
  keyId: string;
}

/** One attempt of a call on one account. */
export interface AttemptContext {
  account: AccountRecord;
  credentials: UpstreamCredentials;
  upstream: Readonly<UpstreamOrigins>;
}

export interface UpstreamRequest {
  url: string;
  headers: Headers;
  body: string;
}

/** Rewrites of the backend's answer (Claude tool names, for instance). */
export interface AnswerRewriter {
  /** Rewrites one SSE event; undefined keeps the event's original text. */
  event(event: SseEvent): string | undefined;
  /**
   * Text every event event() may rewrite contains: events without it pass
   * as the backend's bytes, never decoded (absent: every event is handed
   * to event()).
   */
  marker?: string;
  /** Rewrites a JSON answer; undefined keeps the original text. */
  json(body: unknown): unknown | undefined;
  /** Text still owed to the client when the backend's stream ends (API translation). */
  end?(): string;
  /** The error event ending a broken stream, when the client speaks another API than the backend. */
  fail?(code: string, message: string): string;
}

/** The final answer of a non-streaming client whose call was streamed upstream. */
export interface CollectedAnswer {
  status: number;
  body: unknown;
}

/** A call the adapter has checked and knows how to forward. */
export interface PreparedCall {
  model: string;
  /** The client expects an SSE stream. */
  clientStream: boolean;
  shape: AnswerShape;
  /** The client's session, for account affinity (not hashed yet). */
  session?: string;
  /** Builds the upstream request for one account. */
  build(attempt: AttemptContext): Promise<UpstreamRequest>;
  /** Set when the answer needs rewriting; absent answers pass through untouched. */
  rewriter?: AnswerRewriter;
  /**
   * Set when the upstream answer is a stream but the client asked for JSON:
   * called for every event until it returns the answer (Codex:
   * docs/providers/codex.md#stream-and-answer).
   */
  collect?: (event: SseEvent) => CollectedAnswer | undefined;
}

/** What a backend's error answer means for the account that got it. */
export type FailureVerdict =
  /** Give the backend's answer to the client as it is (400s, 5xx, policy blocks). */
  | { action: "pass" }
  /** The token was refused: refresh once and retry on the same account. */
  | { action: "refresh" }
  /** Exhausted: cool the account (model "*") or one model down until `until` (ms), try the next. */
  | { action: "cooldown"; model: string; until: number; reason: string };

export interface ProxyAdapter {
  provider: ProviderId;
  /** Endpoints (below the provider prefix) this adapter serves with POST. */
  endpoints: readonly string[];
  /** Model id prefixes accepted and stripped before forwarding ("openai/", "codex/"). */
  modelPrefixes: readonly string[];
  /** The error vocabulary of an endpoint (docs/api.md#error-shapes). */
  errorStyle(endpoint: string): ErrorStyle;
  /** Checks the call and prepares it; throws a 400 KleisError for a body the backend would refuse. */
  prepare(call: ClientCall): PreparedCall;
  /** Interprets an error answer (status ≥ 400). `body` is its text. */
  classify(
    status: number,
    headers: Headers,
    body: string,
    model: string,
    now: number,
  ): FailureVerdict;
  /** Quota headroom carried by the answer's headers, if the backend sends any. */
  quota(headers: Headers, now: number): QuotaReading | undefined;
}

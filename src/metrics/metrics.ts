/**
 * Kleis's Prometheus metrics (docs/api.md#metrics): what each instance
 * counts in memory, and the hooks the request path calls.
 *
 * - Requests, latency, time to first byte, retries and tokens all come from
 *   the one usage event every proxied request yields (observeRequest, called
 *   by recordUsage), so the request path pays one call and a few Map
 *   updates, nothing more.
 * - Open streams: one increment when a streamed answer starts and one
 *   decrement when it ends (countOpenStream).
 * - Token refreshes: one call per provider refresh call, with its outcome.
 *
 * The counters live in the app's runtime, so they are per instance (per
 * isolate on Deno Deploy) and start at zero with it; Prometheus scrapes every
 * instance and sums (the process start time tells it about restarts).
 */
import type { Deps } from "../deps.ts";
import type { ProviderId } from "../model/providers.ts";
import { PROVIDER_IDS } from "../model/providers.ts";
import { runtimeSlot } from "../runtime.ts";
import { VERSION } from "../version.ts";
import { Counter, Gauge, Histogram, type HistogramValue } from "./instruments.ts";

/** Seconds: from instant answers to long agent streams (the stream idle limit is 120 s). */
export const LATENCY_BUCKETS = [
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  20,
  30,
  60,
  120,
  300,
  600,
] as const;

export const REFRESH_OUTCOMES = ["success", "transient_failure", "permanent_failure"] as const;
export type RefreshOutcome = typeof REFRESH_OUTCOMES[number];

/** Label value of a request whose provider was never known (refused before the model was read). */
export const NO_PROVIDER = "none";
/** Label value of a route Kleis does not serve (a refused request to an unknown path). */
export const OTHER_ROUTE = "other";

/** What observeRequest reads of a usage event (src/usage/types.ts UsageEvent has these fields). */
export interface RequestObservation {
  provider: ProviderId | null;
  endpoint: string;
  status: number;
  latencyMs: number;
  firstByteMs: number | null;
  attempts?: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/** The series one (route, provider) pair updates, held so that a request costs no label lookup. */
interface RouteSlot {
  duration: HistogramValue;
  firstByte: HistogramValue;
  byStatus: Map<number, { n: number }>;
}

/** The series of one provider. */
interface ProviderSlot {
  retries: { n: number };
  input: { n: number };
  output: { n: number };
  cacheRead: { n: number };
  cacheWrite: { n: number };
}

class KleisMetrics {
  /** Route templates that may appear as a label; others are folded into "other". */
  readonly routes = new Set<string>();
  readonly #slots = new Map<string, Map<string, RouteSlot>>();
  readonly #providers = new Map<string, ProviderSlot>();
  readonly requests = new Counter(
    "kleis_proxy_requests_total",
    "Proxied requests by Kleis route, provider and HTTP status (499: the client went away).",
    ["route", "provider", "status"],
  );
  readonly duration = new Histogram(
    "kleis_proxy_request_duration_seconds",
    "Time from a proxied request's arrival to the end of its answer (streams included).",
    ["route", "provider"],
    LATENCY_BUCKETS,
  );
  readonly firstByte = new Histogram(
    "kleis_proxy_first_byte_seconds",
    "Time from a proxied request's arrival to the first byte of its answer.",
    ["route", "provider"],
    LATENCY_BUCKETS,
  );
  readonly retries = new Counter(
    "kleis_proxy_retries_total",
    "Backend calls beyond the first of a request (transient-failure retries, failovers, retries after a token refresh).",
    ["provider"],
  );
  readonly tokens = new Counter(
    "kleis_proxy_tokens_total",
    "Tokens of proxied requests by provider and kind; input excludes cache reads and writes.",
    ["provider", "kind"],
  );
  readonly openStreams = new Gauge(
    "kleis_proxy_open_streams",
    "Streamed answers being sent right now.",
    ["provider"],
  );
  readonly refreshes = new Counter(
    "kleis_token_refreshes_total",
    "Token refresh calls to a provider by outcome (transient failures are retried).",
    ["provider", "outcome"],
  );

  constructor() {
    for (const provider of PROVIDER_IDS) {
      this.providerSlot(provider);
      for (const outcome of REFRESH_OUTCOMES) this.refreshes.touch([provider, outcome]);
      this.openStreams.add([provider], 0);
    }
  }

  /** Route and provider are label values already (route registered or folded). */
  routeSlot(route: string, provider: string): RouteSlot {
    let byProvider = this.#slots.get(route);
    if (!byProvider) this.#slots.set(route, byProvider = new Map());
    let slot = byProvider.get(provider);
    if (!slot) {
      const where = [route, provider];
      slot = {
        duration: this.duration.series(where),
        firstByte: this.firstByte.series(where),
        byStatus: new Map(),
      };
      byProvider.set(provider, slot);
    }
    return slot;
  }

  providerSlot(provider: string): ProviderSlot {
    let slot = this.#providers.get(provider);
    if (!slot) {
      slot = {
        retries: this.retries.series([provider]),
        input: this.tokens.series([provider, "input"]),
        output: this.tokens.series([provider, "output"]),
        cacheRead: this.tokens.series([provider, "cache_read"]),
        cacheWrite: this.tokens.series([provider, "cache_write"]),
      };
      this.#providers.set(provider, slot);
    }
    return slot;
  }
}

const METRICS = runtimeSlot("metrics", () => new KleisMetrics());

type MetricsDeps = Pick<Deps, "runtime">;

/** Route templates Kleis serves (the proxy service lists its endpoints once). */
export function registerRoutes(deps: MetricsDeps, paths: Iterable<string>): void {
  const routes = deps.runtime.get(METRICS).routes;
  for (const path of paths) routes.add(path);
}

/** HTTP statuses as labels: 100-599, anything else folded. */
function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : "other";
}

/** Counts one finished proxied request (its usage event). */
export function observeRequest(deps: MetricsDeps, event: RequestObservation): void {
  const m = deps.runtime.get(METRICS);
  const route = m.routes.has(event.endpoint) ? event.endpoint : OTHER_ROUTE;
  const slot = m.routeSlot(route, event.provider ?? NO_PROVIDER);
  let requests = slot.byStatus.get(event.status);
  if (!requests) {
    requests = m.requests.series([route, event.provider ?? NO_PROVIDER, statusLabel(event.status)]);
    // Statuses are HTTP codes: a few dozen at most per route and provider.
    slot.byStatus.set(event.status, requests);
  }
  requests.n++;
  m.duration.observeInto(slot.duration, event.latencyMs / 1000);
  if (event.firstByteMs !== null) m.firstByte.observeInto(slot.firstByte, event.firstByteMs / 1000);
  if (event.provider === null) return;
  const p = m.providerSlot(event.provider);
  if (event.attempts !== undefined && event.attempts > 1) p.retries.n += event.attempts - 1;
  p.input.n += event.inputTokens;
  p.output.n += event.outputTokens;
  p.cacheRead.n += event.cacheReadTokens;
  p.cacheWrite.n += event.cacheWriteTokens;
}

/**
 * Counts a streamed answer as open until its request ends. `request` is the
 * request's tracker: its end callbacks run once, when the stream has ended
 * for any reason. Answers that are not successful streams are left alone.
 */
export function countOpenStream(
  deps: MetricsDeps,
  provider: ProviderId,
  response: Response,
  request: { onEnd(callback: () => void): void },
): void {
  // The content type first: reading `body` of a Response made from a string
  // turns it into a stream that Deno.serve must then pipe.
  if (response.status >= 400) return;
  if (!response.headers.get("content-type")?.startsWith("text/event-stream")) return;
  if (response.body === null) return;
  const gauge = deps.runtime.get(METRICS).openStreams;
  gauge.add([provider], 1);
  request.onEnd(() => gauge.add([provider], -1));
}

/**
 * Counts one refresh call to a provider: a success (no error), or the
 * provider's refusal, permanent (a new login is needed) or transient (retried).
 */
export function observeRefresh(
  deps: MetricsDeps,
  provider: ProviderId,
  failure?: { permanent: boolean },
): void {
  const outcome: RefreshOutcome = failure === undefined
    ? "success"
    : failure.permanent
    ? "permanent_failure"
    : "transient_failure";
  deps.runtime.get(METRICS).refreshes.inc([provider, outcome]);
}

/** Accounts by provider and status (from the account list the caller read). */
export type AccountStatusCounts = readonly {
  provider: ProviderId;
  status: string;
  count: number;
}[];

/** The /metrics body in the text exposition format 0.0.4. */
export function metricsText(
  deps: MetricsDeps,
  snapshot: { accounts: AccountStatusCounts },
): string {
  const m = deps.runtime.get(METRICS);
  const out: string[] = [];
  const info = new Gauge("kleis_build_info", "Always 1; the version Kleis runs.", ["version"]);
  info.set([VERSION], 1);
  info.write(out);
  const start = new Gauge(
    "kleis_process_start_time_seconds",
    "When this instance started, in seconds since the Unix epoch.",
    [],
  );
  start.set([], Math.round(performance.timeOrigin) / 1000);
  start.write(out);
  const accounts = new Gauge(
    "kleis_accounts",
    "Accounts by provider and status (as the admin API shows it).",
    ["provider", "status"],
  );
  for (const a of snapshot.accounts) accounts.set([a.provider, a.status], a.count);
  accounts.write(out);
  m.requests.write(out);
  m.duration.write(out);
  m.firstByte.write(out);
  m.retries.write(out);
  m.tokens.write(out);
  m.openStreams.write(out);
  m.refreshes.write(out);
  return out.join("\n") + "\n";
}

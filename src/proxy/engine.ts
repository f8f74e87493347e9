/**
 * The proxy engine: for one checked client request, choose an account, call
 * the backend through the provider's adapter, fail over while nothing has
 * been sent to the client, and turn the backend's answer into the client's.
 *
 * Per request on the hot path: the account list, cooldowns and credentials
 * come from short-lived per-instance caches; KV is written only for a new
 * cooldown, a changed session affinity, or quota headroom (at most once a
 * minute per account and instance). Usage goes to recordUsage when the
 * response has ended.
 */
import type { Deps } from "../deps.ts";
import { AccountUnavailableError } from "../accounts/errors.ts";
import { AccountCache, sharedAccountCache } from "../accounts/account_cache.ts";
import type { AccountRecord, UpstreamCredentials } from "../model/accounts.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import type { ProviderId } from "../model/providers.ts";
import { proxyAdapter } from "../providers/mod.ts";
import type { PreparedCall, ProxyAdapter } from "../providers/proxy_types.ts";
import { affinityHash, type AffinityRecord, AffinityStore } from "./affinity.ts";
import { blockingCooldown, CooldownCache } from "../accounts/cooldowns.ts";
import { CredentialsCache } from "./credentials_cache.ts";
import {
  allCoolingDown,
  backendTimeout,
  backendUnreachable,
  clientClosed,
  noEnabledAccount,
  pinnedAccountMissing,
  PROVIDER_NAMES,
  refreshFailed,
} from "./proxy_errors.ts";
import { nativeErrorText } from "./error_shape.ts";
import { QuotaRecorder } from "./quota_headroom.ts";
import { Selector } from "./selector.ts";
import { accountFetchForProxy } from "../accounts/egress.ts";
import { defaultProxyServices, type ProxyServices } from "./services.ts";
import {
  DEFAULT_STREAM_TIMING,
  readBodyText,
  readFailure,
  type StreamTiming,
} from "./streaming.ts";
import { IdleTimer } from "./ticker.ts";
import type { ClientLink } from "./client_link.ts";
import { buildAnswer } from "./answer.ts";
import { clientResponseHeaders } from "./response_headers.ts";
import {
  DEFAULT_RETRY_POLICY,
  isTransientStatus,
  pause,
  retryDelayMs,
  type RetryPolicy,
} from "./retry_policy.ts";
import type { RequestTracker } from "./usage_tracker.ts";
import type { CaptureHook } from "../capture/recorder.ts";

/** A backend that refuses a freshly refreshed token cools the account this long. */
export const AUTH_COOLDOWN_MS = 10 * 60_000;

export interface ProxyRequest {
  provider: ProviderId;
  /** Below the provider prefix: "/responses", "/messages", ... */
  endpoint: string;
  requestId: string;
  key: ApiKeyRecord;
  headers: Headers;
  body: Record<string, unknown>;
  rawBody: string;
  /** Prefix already stripped. */
  model: string;
  /** Whether the client is still there (aborts the backend request when it leaves). */
  link: ClientLink;
  /** Wraps the adapter's prepared call (API translation of the answer). */
  adapt?: (call: PreparedCall) => PreparedCall;
  /** Set while request capture is on for the key (src/capture). */
  capture?: CaptureHook | undefined;
}

export interface ProxyEngineOptions {
  services?: Partial<ProxyServices>;
  timing?: Partial<StreamTiming>;
  retry?: Partial<RetryPolicy>;
}

type AttemptResult =
  | { kind: "answer"; response: Response; ok: boolean }
  | { kind: "cooldown"; until: number }
  /** Transient failures on every try: the backend's last error answer, not yet recorded. */
  | { kind: "transient"; response: Response; accountId: string; status: number }
  | { kind: "unavailable" };

export class ProxyEngine {
  readonly services: ProxyServices;
  readonly timing: StreamTiming;
  readonly retry: RetryPolicy;
  readonly cooldowns: CooldownCache;
  readonly affinity: AffinityStore;
  readonly quota: QuotaRecorder;
  readonly accounts: AccountCache;
  readonly credentials = new CredentialsCache();
  readonly selector: Selector;

  constructor(private readonly deps: Deps, options: ProxyEngineOptions = {}) {
    this.services = { ...defaultProxyServices, ...options.services };
    this.timing = { ...DEFAULT_STREAM_TIMING, ...options.timing };
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.cooldowns = new CooldownCache(deps);
    this.affinity = new AffinityStore(deps);
    this.quota = new QuotaRecorder(deps);
    this.selector = new Selector(deps, this.cooldowns);
    // Tests that replace the account source get a cache of their own; otherwise
    // the instance-wide one the model lists use too.
    const ownSource = options.services?.listAccounts || options.services?.getPrimaryAccountId;
    this.accounts = ownSource ? new AccountCache(deps, this.services) : sharedAccountCache(deps);
  }

  /** Answers the request (or throws a KleisError Kleis answers itself; the caller records it). */
  async handle(req: ProxyRequest, tracker: RequestTracker): Promise<Response> {
    const adapter = proxyAdapter(req.provider);
    const prepared = adapter.prepare({
      endpoint: req.endpoint,
      headers: req.headers,
      body: req.body,
      rawBody: req.rawBody,
      model: req.model,
      keyId: req.key.id,
    });
    const call = req.adapt?.(prepared) ?? prepared;
    const { accounts, primaryId } = await this.accounts.get(req.provider);
    const pinnedId = req.key.accounts?.[req.provider];
    let session: { hash: string; record: AffinityRecord | null } | undefined;
    if (call.session !== undefined && pinnedId === undefined) {
      const hash = await affinityHash(req.key.id, call.session);
      session = { hash, record: await this.affinity.get(req.provider, hash) };
    }
    const ordered = await this.selector.order(req.provider, call.model, {
      accounts,
      primaryId,
      pinnedId,
      affinityId: session?.record?.accountId,
    });
    if (ordered.length === 0) {
      throw pinnedId === undefined
        ? noEnabledAccount(req.provider)
        : pinnedAccountMissing(req.provider);
    }

    const cooldowns = await this.cooldowns.all();
    let earliest: number | undefined;
    let transient: Extract<AttemptResult, { kind: "transient" }> | undefined;
    for (const account of ordered) {
      const blocking = blockingCooldown(cooldowns, account.id, call.model, this.deps.now());
      if (blocking) {
        earliest = Math.min(earliest ?? Infinity, blocking.until);
        continue;
      }
      const result = await this.#attempt(req, adapter, call, account, tracker);
      if (result.kind === "answer") {
        if (session && result.ok) {
          this.affinity.set(req.provider, session.hash, account.id, session.record).catch((error) =>
            this.deps.log.warn("Could not store session affinity.", { error })
          );
        }
        return result.response;
      }
      if (result.kind === "cooldown") earliest = Math.min(earliest ?? Infinity, result.until);
      if (result.kind === "transient") transient = result;
    }
    if (transient) {
      // Every account that was tried failed transiently (or cooled down):
      // the client gets the backend's own last answer.
      tracker.accountId = transient.accountId;
      tracker.firstByte();
      tracker.finish(transient.status, "backend");
      return transient.response;
    }
    if (earliest !== undefined) throw allCoolingDown(req.provider, earliest, this.deps.now());
    throw refreshFailed(req.provider);
  }

  async #credentials(account: AccountRecord, force: boolean): Promise<UpstreamCredentials> {
    const now = this.deps.now();
    if (!force) {
      const cached = this.credentials.get(account, now);
      if (cached) return cached;
    } else {
      this.credentials.forget(account.id);
    }
    const credentials = await this.services.getUpstreamCredentials(this.deps, account, {
      forceRefresh: force,
    });
    if (!force) this.credentials.set(account, credentials, now);
    return credentials;
  }

  async #attempt(
    req: ProxyRequest,
    adapter: ProxyAdapter,
    call: PreparedCall,
    account: AccountRecord,
    tracker: RequestTracker,
  ): Promise<AttemptResult> {
    let credentials: UpstreamCredentials;
    try {
      credentials = await this.#credentials(account, false);
    } catch (error) {
      if (!(error instanceof AccountUnavailableError)) throw error;
      this.deps.log.warn("Skipping an account without a usable token.", {
        accountId: account.id,
        reason: error.reason,
      });
      return { kind: "unavailable" };
    }

    let refreshed = false;
    let transientFailures = 0;
    while (true) {
      const { response, abort } = await this.#send(req, call, account, credentials);
      tracker.attempt();
      if (response.status < 400) {
        tracker.accountId = account.id;
        const now = this.deps.now();
        void this.quota.record(account.id, () => adapter.quota(response.headers, now));
        const answer = await buildAnswer({
          response,
          abort,
          link: req.link,
          call,
          shape: call.shape,
          account: account.id,
          requestId: req.requestId,
          tracker,
          timing: this.timing,
          provider: req.provider,
          log: this.deps.log,
        });
        return { kind: "answer", response: answer, ok: true };
      }

      const text = await this.#readError(req, response, abort);
      const now = this.deps.now();
      const verdict = adapter.classify(response.status, response.headers, text, call.model, now);
      if (verdict.action === "pass" && isTransientStatus(response.status)) {
        transientFailures++;
        const retrying = transientFailures < this.retry.triesPerAccount;
        const delayMs = retrying ? retryDelayMs(this.retry, transientFailures) : 0;
        this.deps.log.warn(
          retrying
            ? "Backend failed transiently; retrying on the same account."
            : "Backend failed transiently; moving to the next account.",
          {
            requestId: req.requestId,
            accountId: account.id,
            provider: req.provider,
            status: response.status,
            try: transientFailures,
            ...(retrying ? { delayMs } : {}),
          },
        );
        if (retrying) {
          if (!await pause(delayMs, req.link.signal())) throw clientClosed();
          continue;
        }
        return {
          kind: "transient",
          accountId: account.id,
          status: response.status,
          response: this.#errorAnswer(req, adapter, account, response, text),
        };
      }
      if (verdict.action === "refresh" && !refreshed) {
        refreshed = true;
        try {
          credentials = await this.#credentials(account, true);
        } catch (error) {
          if (!(error instanceof AccountUnavailableError)) throw error;
          return { kind: "unavailable" };
        }
        continue;
      }
      if (verdict.action === "refresh" || verdict.action === "cooldown") {
        const cooldown = verdict.action === "cooldown"
          ? { model: verdict.model, until: verdict.until, reason: verdict.reason }
          : { model: "*", until: now + AUTH_COOLDOWN_MS, reason: "unauthorized" };
        void this.quota.record(account.id, () => adapter.quota(response.headers, now), true);
        await this.cooldowns.set({ accountId: account.id, status: response.status, ...cooldown });
        this.deps.log.info("Account cooling down.", {
          accountId: account.id,
          provider: req.provider,
          model: cooldown.model,
          until: new Date(cooldown.until).toISOString(),
          reason: cooldown.reason,
          status: response.status,
        });
        return { kind: "cooldown", until: cooldown.until };
      }
      // Any other error (a 400 from the prompt classifier included) is the
      // backend's answer to this request: never a reason to rotate.
      tracker.accountId = account.id;
      void this.quota.record(account.id, () => adapter.quota(response.headers, now));
      tracker.firstByte();
      tracker.finish(response.status, "backend");
      return {
        kind: "answer",
        ok: false,
        response: this.#errorAnswer(req, adapter, account, response, text),
      };
    }
  }

  /** The backend's error answer as the client gets it. */
  #errorAnswer(
    req: ProxyRequest,
    adapter: ProxyAdapter,
    account: AccountRecord,
    response: Response,
    text: string,
  ) {
    // In the route's error shape, so the client's SDK shows the backend's message.
    const native = nativeErrorText(
      adapter.errorStyle(req.endpoint),
      response.status,
      text,
      PROVIDER_NAMES[req.provider],
    );
    return new Response(native ?? text, {
      status: response.status,
      headers: clientResponseHeaders(response.headers, {
        account: account.id,
        requestId: req.requestId,
        ...(native === undefined ? {} : { contentType: "application/json" }),
      }),
    });
  }

  async #send(
    req: ProxyRequest,
    call: PreparedCall,
    account: AccountRecord,
    credentials: UpstreamCredentials,
  ): Promise<{ response: Response; abort: AbortController }> {
    const upstream = await call.build({
      account,
      credentials,
      upstream: this.deps.config.upstream,
    });
    req.capture?.sent(req, account.id, upstream, credentials);
    if (req.link.gone) throw clientClosed();
    const abort = new AbortController();
    // The client going away cancels the backend request while Kleis waits
    // for the answer (client_link.ts); once the answer is the client's,
    // its stream's cancel does (streaming.ts).
    req.link.abortOnGone(abort);
    let timedOut = false;
    const timer = new IdleTimer(this.timing.idleTimeoutMs, () => {
      timedOut = true;
      abort.abort();
    });
    try {
      const response = await accountFetchForProxy(this.deps, account)(upstream.url, {
        method: "POST",
        headers: upstream.headers,
        body: upstream.body,
        signal: abort.signal,
        redirect: "manual",
      });
      return { response, abort };
    } catch (error) {
      if (req.link.gone) throw clientClosed();
      if (timedOut) {
        throw backendTimeout(req.provider, this.timing.idleTimeoutMs);
      }
      this.deps.log.warn("Backend unreachable.", { provider: req.provider, error });
      throw backendUnreachable(req.provider);
    } finally {
      timer.stop();
    }
  }

  async #readError(req: ProxyRequest, response: Response, abort: AbortController) {
    try {
      return await readBodyText(response, abort, this.timing.idleTimeoutMs);
    } catch (error) {
      throw readFailure(error, req.provider, this.timing.idleTimeoutMs, req.link.gone);
    }
  }
}

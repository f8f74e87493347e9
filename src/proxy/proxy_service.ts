/**
 * The proxy service behind the proxy routes: for one POST to a provider
 * endpoint (the API key middleware and the body limit have already run),
 * parse the body, normalise the model, check the key's scopes in the
 * documented order, and hand the request to the proxy engine. Errors Kleis
 * answers itself use the endpoint's native error shape and carry
 * x-kleis-request-id; every request, answered or refused, yields one usage
 * event (through the RequestTracker).
 *
 * The endpoints that accept every provider's models (/v1/chat/completions,
 * /v1/responses, /v1/messages[/count_tokens], /openai/v1/chat/completions,
 * /anthropic/v1/messages[/count_tokens]) resolve the provider from the model
 * id and translate when the backend speaks another API (call_plan.ts,
 * src/translate/).
 */
import type { Deps } from "../deps.ts";
import { badRequest, errorResponse, type ErrorStyle, KleisError, toKleisError } from "../errors.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import { keyAllowsModel, keyAllowsProvider } from "../keys/scopes.ts";
import type { ProviderId } from "../model/providers.ts";
import { proxyAdapter } from "../providers/mod.ts";
import { PROXY_ROUTE_PREFIX } from "../providers/proxy_types.ts";
import { isObject, type JsonObject } from "../json.ts";
import type { FailureSource } from "../usage/types.ts";
import { ProxyEngine, type ProxyEngineOptions } from "./engine.ts";
import { ClientLink } from "./client_link.ts";
import { nativePlan } from "./native_plan.ts";
import { PROVIDER_NAMES } from "./proxy_errors.ts";
import { RequestTracker } from "./usage_tracker.ts";
import { type CallPlan, planCall } from "./call_plan.ts";
import { nativeErrorText } from "./error_shape.ts";
import type { ApiShape } from "../translate/translation.ts";
import { countOpenStream, registerRoutes } from "../metrics/metrics.ts";
import { planEmbeddings } from "./embeddings.ts";
import { captureFor, type CaptureRecorder } from "../capture/recorder.ts";

/** One proxied endpoint: the route path and what it stands for. */
export interface ProxyEndpoint {
  /** The full route path, e.g. "/copilot/v1/chat/completions". */
  path: string;
  /** The route's own provider (null on /v1, where only the model names one). */
  provider: ProviderId | null;
  /** Below the provider prefix: "/responses", "/messages", ... */
  endpoint: string;
  style: ErrorStyle;
  /** Set on endpoints that take every provider's models: the client's API. */
  api?: ApiShape | "count_tokens" | "embeddings";
}

/** Endpoints that take every provider's models (the model id picks the provider). */
const OPEN_ENDPOINTS: ProxyEndpoint[] = [
  { path: "/v1/chat/completions", api: "chat", provider: null, style: "openai" },
  { path: "/v1/responses", api: "responses", provider: null, style: "openai" },
  { path: "/v1/messages", api: "messages", provider: null, style: "anthropic" },
  { path: "/v1/messages/count_tokens", api: "count_tokens", provider: null, style: "anthropic" },
  { path: "/openai/v1/chat/completions", api: "chat", provider: "codex", style: "openai" },
  { path: "/anthropic/v1/messages", api: "messages", provider: "claude", style: "anthropic" },
  {
    path: "/anthropic/v1/messages/count_tokens",
    api: "count_tokens",
    provider: "claude",
    style: "anthropic",
  },
  { path: "/v1/embeddings", api: "embeddings", provider: null, style: "openai" },
  { path: "/copilot/v1/embeddings", api: "embeddings", provider: "copilot", style: "openai" },
].map((e) => ({ ...e, endpoint: "" }) as ProxyEndpoint);

/** What the route hands over of one request. */
export interface ProxyCall {
  requestId: string;
  key: ApiKeyRecord;
  /** The request's admission under the key's limits (the key middleware's). */
  lease: { release(): Promise<void> };
  headers: Headers;
  /** The request's AbortSignal (read only for a request that waits: client_link.ts). */
  clientSignal: () => AbortSignal;
  /** Reads the body (inside the service, so a failed read is answered and counted). */
  readBody: () => Promise<string>;
  /** The caller's address (src/client_address.ts), for usage records. */
  client?: string;
}

/** Kleis errors caused by the backend rather than by Kleis or the client. */
const BACKEND_CODES = new Set(["backend_unreachable", "backend_timeout", "incomplete_response"]);

function failureOf(error: KleisError): FailureSource {
  if (error.code === "client_closed_request") return "none";
  return BACKEND_CODES.has(error.code) ? "backend" : "proxy";
}

function parseBody(text: string): JsonObject {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest("invalid_json", "The request body is not valid JSON.");
  }
  if (!isObject(body)) throw badRequest("invalid_json", "The request body must be a JSON object.");
  return body;
}

export class ProxyService {
  readonly engine: ProxyEngine;
  /** Every provider's proxied endpoints. */
  readonly endpoints: readonly ProxyEndpoint[];

  constructor(private readonly deps: Deps, options: ProxyEngineOptions = {}) {
    this.engine = new ProxyEngine(deps, options);
    const endpoints: ProxyEndpoint[] = [...OPEN_ENDPOINTS];
    const open = new Set(OPEN_ENDPOINTS.map((e) => e.path));
    for (const provider of Object.keys(PROXY_ROUTE_PREFIX) as ProviderId[]) {
      const adapter = proxyAdapter(provider);
      for (const endpoint of adapter.endpoints) {
        const path = PROXY_ROUTE_PREFIX[provider] + endpoint;
        if (open.has(path)) continue;
        endpoints.push({ path, provider, endpoint, style: adapter.errorStyle(endpoint) });
      }
    }
    this.endpoints = endpoints;
    registerRoutes(deps, endpoints.map((e) => e.path));
  }

  /** Answers one request: the backend's answer, or Kleis's error in the native shape. */
  async handle(target: ProxyEndpoint, call: ProxyCall): Promise<Response> {
    // Request capture (src/capture): undefined, at the cost of one check, unless on for the key.
    const capture = captureFor(this.deps, call, target.path);
    const res = await this.#handle(target, call, capture);
    return capture ? capture.answer(res) : res;
  }

  async #handle(
    target: ProxyEndpoint,
    call: ProxyCall,
    capture: CaptureRecorder | undefined,
  ): Promise<Response> {
    const { deps, engine } = this;
    const { path } = target;
    const { key, requestId } = call;
    const startedAt = engine.timing.clock();
    const tracker = new RequestTracker(
      deps,
      engine.services,
      {
        requestId,
        keyId: key.id,
        provider: target.provider,
        model: null,
        endpoint: path,
        client: call.client,
        userAgent: call.headers.get("user-agent"),
      },
      engine.timing.clock,
      startedAt,
    );
    let link: ClientLink | undefined;
    try {
      const rawBody = await call.readBody();
      const body = parseBody(rawBody);
      const raw = body["model"];
      if (typeof raw !== "string" || raw.trim() === "") {
        throw badRequest("missing_model", `The request body has no string "model".`);
      }
      const plan = await this.#plan(target, body, raw, call);
      const { provider, model } = plan;
      tracker.provider = provider;
      tracker.model = model;
      if (!keyAllowsProvider(key, provider)) {
        throw new KleisError(
          403,
          "provider_not_allowed",
          `This API key may not use ${PROVIDER_NAMES[provider]}.`,
        );
      }
      if (!keyAllowsModel(key, provider, model)) {
        throw new KleisError(
          403,
          "model_not_allowed",
          `This API key may not use the model "${model}".`,
        );
      }
      // The slot is freed when the usage is recorded, which may be before
      // the middleware sees the body sent (release is idempotent).
      // The callback lives as long as the answer's stream: it keeps the
      // lease only, never `call` (whose readBody holds the whole request context).
      const { lease } = call;
      tracker.onEnd(() => void lease.release());
      const built = plan.build();
      if (built.local) {
        tracker.firstByte();
        tracker.finish(200, "none");
        return built.local(requestId);
      }
      const { translation } = built;
      link = new ClientLink(call.clientSignal);
      const res = await engine.handle({
        provider,
        endpoint: built.endpoint,
        requestId,
        key,
        headers: built.headers ?? call.headers,
        body: built.body ?? body,
        rawBody: built.rawBody ?? rawBody,
        model,
        link,
        capture,
        ...(translation ? { adapt: (prepared) => translation.adapt(prepared) } : {}),
      }, tracker);
      countOpenStream(deps, provider, res, tracker);
      if (!translation || res.status < 400) return res;
      // The engine wrote the backend's error in the backend API's shape; the
      // client gets it in its own (status and headers such as Retry-After kept).
      const text = await res.text();
      const native = nativeErrorText(target.style, res.status, text, PROVIDER_NAMES[provider]);
      const headers = new Headers(res.headers);
      if (native !== undefined) headers.set("content-type", "application/json");
      return new Response(native ?? text, { status: res.status, headers });
    } catch (caught) {
      const error = toKleisError(caught, deps.log, { requestId, path });
      if (error.status >= 500 && error.code !== "internal_error") {
        deps.log.warn(error.message, { requestId, path, code: error.code });
      }
      tracker.finish(error.status, failureOf(error));
      const res = errorResponse(target.style, error);
      res.headers.set("x-kleis-request-id", requestId);
      return res;
    } finally {
      // The answer is the client's now: a client that leaves cancels its stream.
      link?.stop();
    }
  }

  /** The provider, model and call of a request: by the endpoint's provider, or by the model id. */
  #plan(target: ProxyEndpoint, body: JsonObject, raw: string, call: ProxyCall): Promise<CallPlan> {
    if (target.api === "embeddings") {
      return planEmbeddings(this.deps, { model: raw, key: call.key, home: target.provider });
    }
    if (target.api === undefined) return nativePlan(this.deps, target, body, raw, call.key);
    return planCall(this.deps, {
      api: target.api,
      body,
      model: raw,
      key: call.key,
      headers: call.headers,
      ...(target.provider === null ? {} : { home: target.provider }),
    });
  }
}

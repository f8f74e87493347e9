/**
 * The proxy service behind the proxy routes: for one POST to a provider
 * endpoint (the API key middleware and the body limit have already run),
 * parse the body, normalise the model, check the key's scopes in the
 * documented order, and hand the request to the proxy engine. Errors Kleis
 * answers itself use the endpoint's native error shape and carry
 * x-kleis-request-id; every request, answered or refused, yields one usage
 * event (through the RequestTracker).
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
import { normalizeModel } from "./model_id.ts";
import { PROVIDER_NAMES } from "./proxy_errors.ts";
import { RequestTracker } from "./usage_tracker.ts";

/** One proxied endpoint: the route path and what it stands for. */
export interface ProxyEndpoint {
  /** The full route path, e.g. "/copilot/v1/chat/completions". */
  path: string;
  provider: ProviderId;
  /** Below the provider prefix: "/responses", "/messages", ... */
  endpoint: string;
  style: ErrorStyle;
}

/** What the route hands over of one request. */
export interface ProxyCall {
  requestId: string;
  key: ApiKeyRecord;
  /** The request's admission under the key's limits (the key middleware's). */
  lease: { release(): Promise<void> };
  headers: Headers;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** Reads the body (inside the service, so a failed read is answered and counted). */
  readBody: () => Promise<string>;
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
    const endpoints: ProxyEndpoint[] = [];
    for (const provider of Object.keys(PROXY_ROUTE_PREFIX) as ProviderId[]) {
      const adapter = proxyAdapter(provider);
      for (const endpoint of adapter.endpoints) {
        const path = PROXY_ROUTE_PREFIX[provider] + endpoint;
        endpoints.push({ path, provider, endpoint, style: adapter.errorStyle(endpoint) });
      }
    }
    this.endpoints = endpoints;
  }

  /** Answers one request: the backend's answer, or Kleis's error in the native shape. */
  async handle(target: ProxyEndpoint, call: ProxyCall): Promise<Response> {
    const { deps, engine } = this;
    const { provider, endpoint, path } = target;
    const { key, requestId } = call;
    const startedAt = engine.timing.clock();
    const tracker = new RequestTracker(
      deps,
      engine.services,
      { requestId, keyId: key.id, provider, model: null, endpoint: path },
      engine.timing.clock,
      startedAt,
    );
    try {
      const rawBody = await call.readBody();
      const body = parseBody(rawBody);
      const raw = body["model"];
      if (typeof raw !== "string" || raw.trim() === "") {
        throw badRequest("missing_model", `The request body has no string "model".`);
      }
      const model = normalizeModel(provider, raw);
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
      tracker.onEnd(() => void call.lease.release());
      return await engine.handle({
        provider,
        endpoint,
        requestId,
        key,
        headers: call.headers,
        body,
        rawBody,
        model,
        signal: call.signal,
      }, tracker);
    } catch (caught) {
      const error = toKleisError(caught, deps.log, { requestId, path });
      if (error.status >= 500 && error.code !== "internal_error") {
        deps.log.warn(error.message, { requestId, path, code: error.code });
      }
      tracker.finish(error.status, failureOf(error));
      const res = errorResponse(target.style, error);
      res.headers.set("x-kleis-request-id", requestId);
      return res;
    }
  }
}

/**
 * Proxy routes (api.md "Proxy routes"): POST endpoints of the three
 * providers, each checked in the documented order (the API key middleware
 * and the body limit have already run) and handed to the proxy engine.
 * Errors Kleis answers itself use the route's native error shape and carry
 * x-kleis-request-id; every request, answered or refused, yields one usage
 * event.
 *
 * The routes that accept every provider's models (/v1/chat/completions,
 * /v1/responses, /v1/messages, /openai/v1/chat/completions,
 * /anthropic/v1/messages) resolve the provider from the model id and, when
 * the backend speaks another API, translate (src/translate/).
 */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { badRequest, errorResponse, KleisError } from "../src/errors.ts";
import type { ProviderId } from "../src/providers/ids.ts";
import { proxyAdapter } from "../src/providers/mod.ts";
import { PROXY_ROUTE_PREFIX } from "../src/providers/proxy_types.ts";
import { isObject, type JsonObject } from "../src/providers/proxy_util.ts";
import { keyAllowsModel, keyAllowsProvider } from "../src/keys/scopes.ts";
import { acquireKeyLimits } from "../src/keys/limits.ts";
import { ProxyEngine, type ProxyEngineOptions } from "../src/proxy/engine.ts";
import { normalizeModel } from "../src/proxy/model_id.ts";
import { type CallPlan, planCall } from "../src/proxy/call_plan.ts";
import type { ApiShape } from "../src/translate/translation.ts";
import type { ErrorStyle } from "../src/errors.ts";
import { PROVIDER_NAMES } from "../src/proxy/proxy_errors.ts";
import { RequestTracker } from "../src/proxy/usage_tracker.ts";
import type { FailureSource } from "../src/usage/types.ts";

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

/** Turns the parsed body and its model id into the call to make. */
type Planner = (
  body: JsonObject,
  model: string,
  key: AppEnv["Variables"]["apiKey"],
  headers: Headers,
) => Promise<CallPlan>;

/** Routes that accept every provider's models: path → client API, the route's own provider. */
const OPEN_ROUTES: { path: string; api: ApiShape | "count_tokens"; home?: ProviderId }[] = [
  { path: "/v1/chat/completions", api: "chat" },
  { path: "/v1/responses", api: "responses" },
  { path: "/v1/messages", api: "messages" },
  { path: "/v1/messages/count_tokens", api: "count_tokens" },
  { path: "/openai/v1/chat/completions", api: "chat", home: "codex" },
  { path: "/anthropic/v1/messages", api: "messages", home: "claude" },
  { path: "/anthropic/v1/messages/count_tokens", api: "count_tokens", home: "claude" },
];

export function proxyRoutes(deps: Deps, options: ProxyEngineOptions = {}) {
  const app = new Hono<AppEnv>();
  const engine = new ProxyEngine(deps, options);

  /** `provider`: the route's own, recorded for requests refused before the model is resolved. */
  const serve = (
    path: string,
    style: ErrorStyle,
    routeProvider: ProviderId | null,
    planner: Planner,
  ) => {
    app.post(path, async (c) => {
      const startedAt = engine.timing.clock();
      const key = c.var.apiKey;
      const requestId = c.var.requestId;
      const tracker = new RequestTracker(
        deps,
        engine.services,
        { requestId, keyId: key.id, provider: routeProvider, model: null, endpoint: path },
        engine.timing.clock,
        startedAt,
      );
      try {
        const rawBody = await c.req.text();
        const body = parseBody(rawBody);
        const raw = body["model"];
        if (typeof raw !== "string" || raw.trim() === "") {
          throw badRequest("missing_model", `The request body has no string "model".`);
        }
        const plan = await planner(body, raw, key, c.req.raw.headers);
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
        const call = plan.build();
        if (call.local) {
          tracker.firstByte();
          tracker.finish(200, "none");
          return call.local(requestId);
        }
        // Same lease as the key middleware's (one admission per request).
        const lease = await acquireKeyLimits(deps, key);
        tracker.onEnd(() => void lease.release());
        const res = await engine.handle({
          provider,
          endpoint: call.endpoint,
          requestId,
          key,
          headers: call.headers ?? c.req.raw.headers,
          body: call.body ?? body,
          rawBody: call.rawBody ?? rawBody,
          model,
          signal: c.req.raw.signal,
          ...(call.translation ? { adapt: (p) => call.translation!.adapt(p) } : {}),
        }, tracker);
        if (!call.translation || res.status < 400) return res;
        // The backend's own error, in the client's API shape (status and headers kept).
        const headers = new Headers(res.headers);
        headers.set("content-type", "application/json");
        return new Response(call.translation.errorBody(res.status, await res.text()), {
          status: res.status,
          headers,
        });
      } catch (caught) {
        let error: KleisError;
        if (caught instanceof KleisError) {
          error = caught;
        } else {
          deps.log.error("Proxy request failed.", { requestId, path, error: caught });
          error = new KleisError(500, "internal_error", "Kleis failed to handle this request.");
        }
        if (error.status >= 500 && error.code !== "internal_error") {
          deps.log.warn(error.message, { requestId, path, code: error.code });
        }
        tracker.finish(error.status, failureOf(error));
        const res = errorResponse(style, error);
        res.headers.set("x-kleis-request-id", requestId);
        return res;
      }
    });
  };

  for (const route of OPEN_ROUTES) {
    const style: ErrorStyle = route.api === "messages" || route.api === "count_tokens"
      ? "anthropic"
      : "openai";
    serve(route.path, style, route.home ?? null, (body, model, key, headers) =>
      planCall(deps, {
        api: route.api,
        body,
        model,
        key,
        headers,
        ...(route.home ? { home: route.home } : {}),
      }));
  }
  const open = new Set(OPEN_ROUTES.map((r) => r.path));
  for (const provider of Object.keys(PROXY_ROUTE_PREFIX) as ProviderId[]) {
    const adapter = proxyAdapter(provider);
    for (const endpoint of adapter.endpoints) {
      const path = PROXY_ROUTE_PREFIX[provider] + endpoint;
      if (open.has(path)) continue;
      serve(path, adapter.errorStyle(endpoint), provider, (_body, raw) => {
        const model = normalizeModel(provider, raw);
        return Promise.resolve({ provider, model, build: () => ({ endpoint }) });
      });
    }
  }
  return app;
}

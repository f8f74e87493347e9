/**
 * Proxy routes (docs/api.md#proxy-routes): POST endpoints of the three
 * providers, each checked in the documented order (the API key middleware
 * and the body limit have already run) and handed to the proxy engine.
 * Errors Kleis answers itself use the route's native error shape and carry
 * x-kleis-request-id; every request, answered or refused, yields one usage
 * event.
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

export function proxyRoutes(deps: Deps, options: ProxyEngineOptions = {}) {
  const app = new Hono<AppEnv>();
  const engine = new ProxyEngine(deps, options);

  for (const provider of Object.keys(PROXY_ROUTE_PREFIX) as ProviderId[]) {
    const adapter = proxyAdapter(provider);
    for (const endpoint of adapter.endpoints) {
      const path = PROXY_ROUTE_PREFIX[provider] + endpoint;
      const style = adapter.errorStyle(endpoint);
      app.post(path, async (c) => {
        const startedAt = engine.timing.clock();
        const key = c.var.apiKey;
        const requestId = c.var.requestId;
        const tracker = new RequestTracker(
          deps,
          engine.services,
          { requestId, keyId: key.id, provider, model: null, endpoint: path },
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
          // Same lease as the key middleware's (one admission per request).
          const lease = await acquireKeyLimits(deps, key);
          tracker.onEnd(() => void lease.release());
          return await engine.handle({
            provider,
            endpoint,
            requestId,
            key,
            headers: c.req.raw.headers,
            body,
            rawBody,
            model,
            signal: c.req.raw.signal,
          }, tracker);
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
    }
  }
  return app;
}

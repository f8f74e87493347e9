/**
 * Proxy routes (docs/api.md#proxy-routes): the POST endpoints of the three
 * providers, each handed to the proxy service (src/proxy/proxy_service.ts),
 * which checks, forwards and answers; the API key middleware and the body
 * limit have already run.
 */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import type { ProxyEngineOptions } from "../src/proxy/engine.ts";
import { ProxyService } from "../src/proxy/proxy_service.ts";
import { clientAddress } from "../src/client_address.ts";

export function proxyRoutes(deps: Deps, options: ProxyEngineOptions = {}) {
  const app = new Hono<AppEnv>();
  const proxy = new ProxyService(deps, options);
  for (const target of proxy.endpoints) {
    app.post(target.path, (c) =>
      proxy.handle(target, {
        requestId: c.var.requestId,
        key: c.var.apiKey,
        lease: c.var.keyLease,
        headers: c.req.raw.headers,
        signal: c.req.raw.signal,
        readBody: () => c.req.text(),
        client: clientAddress(c, deps.config.trustProxy),
      }));
  }
  return app;
}

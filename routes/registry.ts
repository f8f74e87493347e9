/** GET /api.json and GET /api/:token/api.json: the models.dev-compatible registry for OpenCode. */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { publicBaseUrl } from "../src/client_address.ts";
import { notFound } from "../src/errors.ts";
import { getApiKeyByDiscoveryToken } from "../src/keys/repository.ts";
import { isKeyUsable } from "../src/keys/validity.ts";
import { registryDocument } from "../src/registry/service.ts";

/** Discovery tokens are URL-safe; anything else cannot be one. */
const TOKEN = /^[A-Za-z0-9_-]{8,128}$/;

function json(body: string, cacheControl: string) {
  return new Response(body, {
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": cacheControl },
  });
}

export function registryRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const base = (c: Context) => publicBaseUrl(c, deps.config.publicUrl, deps.config.trustProxy);

  app.get("/api.json", async (c) => {
    const body = await registryDocument(deps, { baseUrl: base(c) });
    // Public and the same for everyone: shared caches may keep it briefly.
    return json(body, "public, max-age=60");
  });

  app.get("/api/:token/api.json", async (c) => {
    const token = c.req.param("token");
    const key = TOKEN.test(token) ? await getApiKeyByDiscoveryToken(deps.kv, token) : undefined;
    if (!key || !isKeyUsable(key, deps.now())) throw notFound("This discovery URL");
    const body = await registryDocument(deps, { baseUrl: base(c), key });
    // The URL is a capability: keep it out of shared caches, and a revocation takes effect at once.
    return json(body, "private, no-store");
  });

  return app;
}

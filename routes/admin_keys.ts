/** Admin API for API keys (docs/api.md#api-keys). Thin: validate, call the service, shape. */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { notFound } from "../src/errors.ts";
import { publicBaseUrl } from "../src/client_address.ts";
import { getApiKey, listApiKeys } from "../src/keys/repository.ts";
import {
  createApiKey,
  deleteApiKey,
  revokeApiKey,
  rotateApiKey,
  updateApiKey,
} from "../src/keys/service.ts";
import { createKeySchema, rotateKeySchema, updateKeySchema } from "../src/keys/validation.ts";
import { parseInput, readJsonBody } from "../src/request_input.ts";
import { toKeyView } from "../src/keys/view.ts";
import type { ApiKeyRecord } from "../src/model/keys.ts";
import { getLastUsed, getLastUsedMany } from "../src/usage/last_used.ts";

export function adminKeysRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const view = (c: Context<AppEnv>, key: ApiKeyRecord, lastUsedAt?: number) =>
    toKeyView(key, {
      baseUrl: publicBaseUrl(c, deps.config.publicUrl, deps.config.trustProxy),
      now: deps.now(),
      lastUsedAt,
    });

  app.get("/keys", async (c) => {
    const keys = await listApiKeys(deps.kv);
    const lastUsed = await getLastUsedMany(deps.kv, "key", keys.map((key) => key.id));
    return c.json({ keys: keys.map((key) => view(c, key, lastUsed.get(key.id))) });
  });

  app.post("/keys", async (c) => {
    const input = parseInput(createKeySchema, await readJsonBody(c.req.raw));
    const { key, secret } = await createApiKey(deps, input);
    return c.json({ key: view(c, key), secret }, 201);
  });

  app.get("/keys/:id", async (c) => {
    const key = await getApiKey(deps.kv, c.req.param("id"));
    if (!key) throw notFound(`The API key ${c.req.param("id")}`);
    return c.json({ key: view(c, key, await getLastUsed(deps.kv, "key", key.id)) });
  });

  app.patch("/keys/:id", async (c) => {
    const input = parseInput(updateKeySchema, await readJsonBody(c.req.raw));
    const key = await updateApiKey(deps, c.req.param("id"), input);
    return c.json({ key: view(c, key) });
  });

  app.post("/keys/:id/revoke", async (c) => {
    const key = await revokeApiKey(deps, c.req.param("id"));
    return c.json({ key: view(c, key) });
  });

  app.post("/keys/:id/rotate", async (c) => {
    const input = parseInput(rotateKeySchema, await readJsonBody(c.req.raw, true));
    const { key, secret } = await rotateApiKey(deps, c.req.param("id"), input.graceSeconds);
    return c.json({ key: view(c, key), secret });
  });

  app.delete("/keys/:id", async (c) => {
    await deleteApiKey(deps, c.req.param("id"));
    return c.json({ deleted: true, id: c.req.param("id") });
  });

  return app;
}

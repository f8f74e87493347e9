/**
 * Status routes of the admin API: GET /admin/credentials/status (every
 * account's credential state) and GET /admin/keys/usage?windowMs= (every
 * key's totals in the window). Mounted before the key routes, whose
 * GET /keys/:id would otherwise take /keys/usage.
 */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { credentialStatuses } from "../src/accounts/credential_status.ts";
import { keyUsageSummaries } from "../src/usage/key_usage.ts";
import { parseQuery } from "./admin_usage.ts";

export function adminStatusRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/credentials/status", async (c) => c.json(await credentialStatuses(deps)));

  app.get("/keys/usage", async (c) => {
    const { windowMs } = parseQuery(deps, c.req.query());
    return c.json(await keyUsageSummaries(deps, windowMs));
  });

  return app;
}

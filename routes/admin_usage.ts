/**
 * Usage answers for the admin API (admin auth is applied by routes/admin.ts):
 * GET /admin/usage, /admin/keys/:id/usage, /admin/accounts/:id/usage, each
 * with ?windowMs= (one minute to the retention period, default 24 h) and an
 * optional ?groupBy= (key, account, provider, model, endpoint, client, userAgent).
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { badRequest, notFound } from "../src/errors.ts";
import { getApiKey } from "../src/keys/repository.ts";
import { requireAccount } from "../src/accounts/repository.ts";
import { DAY_MS, MINUTE_MS } from "../src/usage/buckets.ts";
import { GROUP_BY, queryUsage, type UsageQuery } from "../src/usage/query.ts";

const DEFAULT_WINDOW_MS = DAY_MS;

export function parseQuery(deps: Deps, raw: Record<string, string>): UsageQuery {
  const maxWindow = deps.config.usageRetentionDays * DAY_MS;
  const windowMs = z.coerce.number().int().min(MINUTE_MS).max(maxWindow)
    .safeParse(raw.windowMs ?? DEFAULT_WINDOW_MS);
  if (!windowMs.success || (raw.windowMs !== undefined && !/^\d+$/.test(raw.windowMs))) {
    throw badRequest(
      "invalid_window",
      `windowMs must be a whole number of milliseconds between ${MINUTE_MS} and ${maxWindow} (the retention period).`,
    );
  }
  const groupBy = z.enum(GROUP_BY).optional().safeParse(raw.groupBy || undefined);
  if (!groupBy.success) {
    throw badRequest("invalid_group_by", `groupBy must be one of: ${GROUP_BY.join(", ")}.`);
  }
  return { windowMs: windowMs.data, groupBy: groupBy.data };
}

export function adminUsageRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/usage", async (c) => {
    return c.json(await queryUsage(deps, parseQuery(deps, c.req.query())));
  });

  app.get("/keys/:id/usage", async (c) => {
    const query = parseQuery(deps, c.req.query());
    const id = c.req.param("id");
    if (!(await getApiKey(deps.kv, id))) throw notFound(`API key ${id}`);
    return c.json(await queryUsage(deps, { ...query, keyId: id }));
  });

  app.get("/accounts/:id/usage", async (c) => {
    const query = parseQuery(deps, c.req.query());
    const id = c.req.param("id");
    await requireAccount(deps.kv, id);
    return c.json(await queryUsage(deps, { ...query, accountId: id }));
  });

  return app;
}

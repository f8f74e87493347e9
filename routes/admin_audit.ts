/** GET /admin/audit?limit=&cursor=: the audit log, newest first, paged with a KV cursor. */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { listAudit } from "../src/audit.ts";
import { badRequest } from "../src/errors.ts";
import { parseInput } from "../src/request_input.ts";

const querySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(500).optional(),
});

export function adminAuditRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get("/audit", async (c) => {
    const query = parseInput(querySchema, c.req.query());
    try {
      const page = await listAudit(deps.kv, {
        limit: query.limit,
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
      return c.json(page);
    } catch (error) {
      // KV rejects a cursor it did not issue; that is the caller's mistake.
      if (query.cursor && error instanceof TypeError) {
        throw badRequest("invalid_request", 'Invalid "cursor": not a cursor from this listing.');
      }
      throw error;
    }
  });
  return app;
}

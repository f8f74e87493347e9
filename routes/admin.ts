/**
 * The admin API under /admin: one admin-token check in front of every
 * sub-app, and Cache-Control: no-store on every answer.
 */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { requireAdmin } from "../src/auth/admin_auth.ts";
import { adminKeysRoutes } from "./admin_keys.ts";
import { adminAuditRoutes } from "./admin_audit.ts";
import { adminAccountsRoutes } from "./admin_accounts.ts";
import { adminUsageRoutes } from "./admin_usage.ts";
import { adminBackupRoutes } from "./admin_backup.ts";
import { adminBackupsRoutes } from "./admin_backups.ts";
import { adminStatusRoutes } from "./admin_status.ts";
import { adminSelectionRoutes } from "./admin_selection.ts";
import { adminAlertsRoutes } from "./admin_alerts.ts";
import { adminAliasesRoutes } from "./admin_aliases.ts";
import { adminCaptureRoutes } from "./admin_captures.ts";

/** Paths under /admin that are the page itself, not the API (served by admin_page.ts). */
export function isAdminPagePath(path: string): boolean {
  return path === "/admin" || path === "/admin/" || path.startsWith("/admin/assets/");
}

export function adminApiRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    if (isAdminPagePath(c.req.path)) return await next();
    // requireAdmin's own refusals carry no-store; every other answer, errors
    // included (onError's response is in place when next() returns), gets it here.
    await requireAdmin(deps, c);
    await next();
    c.header("Cache-Control", "no-store");
  });
  // Before the key routes: GET /keys/usage must not be read as GET /keys/:id.
  app.route("/", adminStatusRoutes(deps));
  app.route("/", adminKeysRoutes(deps));
  app.route("/", adminAuditRoutes(deps));
  app.route("/", adminAccountsRoutes(deps));
  app.route("/", adminUsageRoutes(deps));
  app.route("/", adminBackupRoutes(deps));
  app.route("/", adminBackupsRoutes(deps));
  app.route("/", adminSelectionRoutes(deps));
  app.route("/", adminAlertsRoutes(deps));
  app.route("/", adminAliasesRoutes(deps));
  app.route("/", adminCaptureRoutes(deps));
  return app;
}

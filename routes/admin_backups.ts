/** Admin API: scheduled backups (GET /admin/backups, POST /admin/backups/run). */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { conflict } from "../src/errors.ts";
import { backupOverview } from "../src/backup/overview.ts";
import { DEFAULT_RUN_OPTIONS, runBackup } from "../src/backup/scheduled.ts";
import { openTarget } from "../src/backup/target.ts";

export function adminBackupsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get("/backups", async (c) => c.json(await backupOverview(deps)));
  // One attempt, answered when done; the schedule keeps its retries.
  app.post("/backups/run", async (c) => {
    const spec = deps.config.backup.target;
    if (!spec) {
      throw conflict("backup_not_configured", "No backup target is set (KLEIS_BACKUP_TARGET).");
    }
    const options = { ...DEFAULT_RUN_OPTIONS, retryDelaysMs: [] };
    const outcome = await runBackup(deps, openTarget(spec, deps, options), options);
    if (!outcome) throw conflict("backup_running", "A backup is already running.");
    return c.json(outcome);
  });
  return app;
}

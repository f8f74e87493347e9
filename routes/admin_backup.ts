/** Admin API: encrypted export and restore of accounts and API keys. */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { exportBackup, restoreBackup } from "../src/accounts/backup.ts";
import { readJsonBody } from "../src/request_input.ts";

export function adminBackupRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get("/export", async (c) => {
    const file = await exportBackup(deps);
    const day = new Date(file.createdAt).toISOString().slice(0, 10);
    c.header("Content-Disposition", `attachment; filename="kleis-backup-${day}.json"`);
    return c.json(file);
  });
  app.post(
    "/restore",
    async (c) => c.json(await restoreBackup(deps, await readJsonBody(c.req.raw))),
  );
  return app;
}

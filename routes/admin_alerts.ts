/** Admin API, alerts (docs/api.md#alerts): the webhook settings and a test alert. */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { parseInput, readJsonBody } from "../src/request_input.ts";
import {
  alertSettingsPatchSchema,
  readAlertSettings,
  settingsView,
  updateAlertSettings,
} from "../src/alerts/settings.ts";
import { sendTestAlert } from "../src/alerts/delivery.ts";

export function adminAlertsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get(
    "/alerts",
    async (c) => c.json({ alerts: settingsView(await readAlertSettings(deps.kv)) }),
  );

  app.patch("/alerts", async (c) => {
    const patch = parseInput(alertSettingsPatchSchema, await readJsonBody(c.req.raw));
    return c.json({ alerts: await updateAlertSettings(deps, patch) });
  });

  // One attempt, answered when done: 200 with delivered true or false and the receiver's status.
  app.post("/alerts/test", async (c) => {
    const outcome = await sendTestAlert(deps);
    return c.json({
      delivered: outcome.ok,
      id: outcome.id,
      status: outcome.status ?? null,
      error: outcome.error ?? null,
    });
  });

  return app;
}

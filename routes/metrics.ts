/**
 * GET /metrics: this instance's Prometheus metrics in the text exposition
 * format 0.0.4 (docs/api.md#metrics), for the metrics token or the admin
 * token. Never cached.
 */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { requireMetricsReader } from "../src/auth/metrics_auth.ts";
import { accountStatusCounts } from "../src/accounts/status_counts.ts";
import { metricsText } from "../src/metrics/metrics.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function metricsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get("/metrics", async (c) => {
    await requireMetricsReader(deps, c);
    const accounts = await accountStatusCounts(deps);
    return c.body(metricsText(deps, { accounts }), 200, {
      "content-type": METRICS_CONTENT_TYPE,
      "cache-control": "no-store",
    });
  });
  return app;
}

/** GET /healthz: is this instance up and does KV answer? */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { keys } from "../src/kv/keys.ts";
import { VERSION } from "../src/version.ts";

const KV_PROBE_TIMEOUT_MS = 2000;

export function healthRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get("/healthz", async (c) => {
    c.header("Cache-Control", "no-store");
    try {
      await withTimeout(deps.kv.get(keys.healthProbe()), KV_PROBE_TIMEOUT_MS);
      return c.json({ ok: true, kv: "ok", version: VERSION });
    } catch (error) {
      deps.log.error("Health check: KV did not answer.", { error });
      return c.json({ ok: false, kv: "unavailable", version: VERSION }, 503);
    }
  });
  return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`KV did not answer within ${ms} ms.`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

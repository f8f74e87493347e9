// PLACEHOLDER: the registry area (issue 5) replaces this file.
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";

/** GET /v1/models, /openai/v1/models, /anthropic/v1/models, /copilot/v1/models. */
export function modelsRoutes(_deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get("/v1/models", (c) => c.json({ object: "list", data: [] }));
  return app;
}

// PLACEHOLDER: the owner of this area replaces this file.
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";

export function adminKeysRoutes(_deps: Deps) {
  return new Hono<AppEnv>();
}

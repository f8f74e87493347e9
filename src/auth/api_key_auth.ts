// PLACEHOLDER: replaced by the foundation work (issue 2).
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { Deps } from "../deps.ts";
import { invalidApiKey } from "../errors.ts";

/**
 * Authenticates an API key (Authorization: Bearer, any scheme case, or
 * x-api-key), sets c.var.apiKey, and throws 401 / 429 (lockout) otherwise.
 */
export function apiKeyAuth(_deps: Deps): MiddlewareHandler<AppEnv> {
  return async () => {
    await Promise.resolve();
    throw invalidApiKey();
  };
}

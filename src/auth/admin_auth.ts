// PLACEHOLDER: replaced by the foundation work (issue 2).
import type { Context } from "hono";
import type { Deps } from "../deps.ts";
import { KleisError } from "../errors.ts";

/** Throws 401 (or 429 when the address is locked out) unless the admin token is presented. */
export async function requireAdmin(deps: Deps, c: Context): Promise<void> {
  const header = c.req.header("authorization") ?? "";
  if (header !== `Bearer ${deps.config.adminToken}`) {
    throw new KleisError(401, "unauthorized", "The admin token is missing or wrong.");
  }
  await Promise.resolve();
}

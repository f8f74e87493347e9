/**
 * Who may read GET /metrics: the metrics token (KLEIS_METRICS_TOKEN), which
 * opens nothing else, or the admin token. The metrics token is compared like
 * the admin token (SHA-256 digests, constant time) and honours the address's
 * admin lockout; any other token is judged, and counted, exactly as on the
 * admin API (admin_auth.ts), so /metrics is no side door for guessing it.
 */
import type { Context } from "hono";
import type { Deps } from "../deps.ts";
import { KleisError } from "../errors.ts";
import { clientAddress } from "../client_address.ts";
import { constantTimeEqual } from "../crypto.ts";
import { keys } from "../kv/keys.ts";
import { bearerToken, requireAdmin } from "./admin_auth.ts";
import { assertNotLockedOut, type LockoutEntry } from "./lockout.ts";

/** Throws 401 (or 429 while the address is locked out) unless a token that opens /metrics is presented. */
export async function requireMetricsReader(deps: Deps, c: Context): Promise<void> {
  const metricsToken = deps.config.metricsToken;
  const presented = bearerToken(c.req.header("authorization"));
  if (
    metricsToken === undefined || presented === undefined ||
    !constantTimeEqual(presented, metricsToken)
  ) {
    return await requireAdmin(deps, c);
  }
  const address = clientAddress(c, deps.config.trustProxy);
  const lockout = await deps.kv.get<LockoutEntry>(keys.lockout("admin", address));
  try {
    assertNotLockedOut("admin", lockout.value, deps.now());
  } catch (error) {
    if (error instanceof KleisError) error.headers["Cache-Control"] = "no-store";
    throw error;
  }
}

/**
 * Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>`. Both sides
 * are hashed with SHA-256 and the digests compared in constant time, so
 * neither content nor length of the token leaks through timing. Wrong
 * tokens count towards the address's lockout (src/auth/lockout.ts); a
 * locked-out address is refused even with the right token. Wrong tokens
 * from one address are counted one at a time (src/auth/attempt_gate.ts),
 * and the right token waits for those that arrived before it.
 */
import type { Context } from "hono";
import type { Deps } from "../deps.ts";
import { KleisError } from "../errors.ts";
import { clientAddress } from "../client_address.ts";
import { constantTimeEqual } from "../crypto.ts";
import { keys } from "../kv/keys.ts";
import { attemptGate } from "./attempt_gate.ts";
import {
  assertNotLockedOut,
  type LockoutEntry,
  recordAuthFailure,
  throwLockedOut,
} from "./lockout.ts";

/** The bearer credential of an Authorization header, whatever the scheme's case. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim() || undefined;
}

/** Constant-time check of a presented token against the configured admin token. */
export function isAdminToken(config: Deps["config"], presented: string): boolean {
  return constantTimeEqual(presented, config.adminToken);
}

/** Throws 401 (or 429 while the address is locked out) unless the admin token is presented. */
export async function requireAdmin(deps: Deps, c: Context): Promise<void> {
  try {
    await checkAdmin(deps, c);
  } catch (error) {
    // The refusal replaces the response, so it carries no-store itself (every admin answer
    // does: docs/api.md#admin-api).
    if (error instanceof KleisError) error.headers["Cache-Control"] = "no-store";
    throw error;
  }
}

async function checkAdmin(deps: Deps, c: Context): Promise<void> {
  const address = clientAddress(c, deps.config.trustProxy);
  const presented = bearerToken(c.req.header("authorization"));
  const gate = attemptGate(deps);
  const gateKey = `admin:${address}`;

  // A wrong token is counted (and its answer decided) by recordAuthFailure
  // alone, one at a time per address: nothing read before it decides.
  if (presented !== undefined && !isAdminToken(deps.config, presented)) {
    const release = await gate.acquire(gateKey);
    let retryAfterMs: number;
    try {
      retryAfterMs = await recordAuthFailure(deps, "admin", address, {
        action: "admin.login_failed",
        actor: "anonymous",
        address,
      });
    } finally {
      release();
    }
    if (retryAfterMs > 0) throwLockedOut("admin", retryAfterMs);
    throw unauthorized();
  }

  // The right token (or none) is judged after wrong ones that came before it.
  const queued = gate.idle(gateKey);
  if (queued) await queued;
  const lockout = await deps.kv.get<LockoutEntry>(keys.lockout("admin", address));
  assertNotLockedOut("admin", lockout.value, deps.now());
  // A request without any token (the admin page before sign-in) is not a
  // guess and does not count.
  if (presented === undefined) throw unauthorized();
}

const unauthorized = () =>
  new KleisError(401, "unauthorized", "The admin token is missing or wrong.");

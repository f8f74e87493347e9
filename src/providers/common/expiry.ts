/** Expiry rules shared by the adapters and the status view. */
import { decodeJwtPayload } from "../../crypto.ts";

/** Refresh on demand when fewer than this many ms remain (docs/providers/codex.md#refresh). */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** The cron sweep refreshes, and the status shows `expiring`, below this. */
export const EXPIRING_WINDOW_MS = 30 * 60_000;

export function expiresSoon(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && expiresAt - now < REFRESH_MARGIN_MS;
}

/** The `exp` claim of a JWT, in ms. */
export function jwtExpiry(token: string | undefined): number | undefined {
  if (!token) return undefined;
  const exp = decodeJwtPayload(token)?.["exp"];
  return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
}

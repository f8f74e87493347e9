/** Account-side helpers shared by the adapters whose tokens are plain expiring bearers. */
import type { Deps } from "../deps.ts";
import type { AccountRecord, UpstreamCredentials } from "../model/accounts.ts";
import { expiresSoon } from "./common/expiry.ts";
import type { StoredTokens } from "./account_types.ts";

export const TAKEOVER_WARNING =
  "This login now belongs to Kleis: the first refresh rotates the refresh token, so the CLI it came from will need a new login.";

export function expiringNeedsRefresh(tokens: StoredTokens, now: number, force: boolean): boolean {
  return force || expiresSoon(tokens.expiresAt, now);
}

export function bearerUpstream(
  _deps: Deps,
  _account: AccountRecord,
  tokens: StoredTokens,
): UpstreamCredentials {
  return { accessToken: tokens.accessToken };
}

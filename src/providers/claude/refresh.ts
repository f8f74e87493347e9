/** Claude refresh: both tokens rotate; the old refresh token then fails (providers.md §3.2). */
import type { Deps } from "../../deps.ts";
import { ProviderAuthError } from "../shared/errors.ts";
import type { AccountRecord } from "../../accounts/types.ts";
import type { RefreshResult, StoredTokens } from "../account_types.ts";
import { claudeTokenRequest } from "./tokens.ts";

export async function refreshClaude(
  deps: Deps,
  _account: AccountRecord,
  tokens: StoredTokens,
): Promise<RefreshResult> {
  if (!tokens.refreshToken) {
    throw new ProviderAuthError(true, "no_refresh_token", "The account has no refresh token.");
  }
  const answer = await claudeTokenRequest(deps, "The Claude token refresh", {
    grant_type: "refresh_token",
    refresh_token: tokens.refreshToken,
  });
  return { tokens: answer.tokens };
}

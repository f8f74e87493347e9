/** Claude refresh: both tokens rotate, the old one then fails (docs/providers/claude.md). */
import type { Deps } from "../../deps.ts";
import { refreshGrant } from "../common/tokens.ts";
import type { AccountRecord } from "../../model/accounts.ts";
import type { RefreshResult, StoredTokens } from "../account_types.ts";
import { claudeTokenRequest } from "./tokens.ts";

export async function refreshClaude(
  deps: Deps,
  _account: AccountRecord,
  tokens: StoredTokens,
): Promise<RefreshResult> {
  const answer = await claudeTokenRequest(deps, "The Claude token refresh", refreshGrant(tokens));
  return { tokens: answer.tokens };
}

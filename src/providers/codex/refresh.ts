/** Codex refresh: refresh tokens rotate and are single-use (docs/providers/codex.md#refresh). */
import type { Deps } from "../../deps.ts";
import { refreshGrant } from "../common/tokens.ts";
import type { AccountRecord } from "../../model/accounts.ts";
import type { RefreshResult, StoredTokens } from "../account_types.ts";
import { codexIdentity } from "./identity.ts";
import { codexTokenRequest } from "./tokens.ts";

export async function refreshCodex(
  deps: Deps,
  _account: AccountRecord,
  tokens: StoredTokens,
): Promise<RefreshResult> {
  const answer = await codexTokenRequest(deps, "The Codex token refresh", refreshGrant(tokens));
  const identity = codexIdentity({
    idToken: answer.idToken,
    accessToken: answer.tokens.accessToken,
  });
  const learnt: RefreshResult["identity"] = {};
  if (identity?.plan) learnt.plan = identity.plan;
  if (identity?.email) learnt.email = identity.email;
  return { tokens: answer.tokens, identity: learnt };
}

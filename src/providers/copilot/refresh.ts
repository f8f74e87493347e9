/**
 * Copilot token upkeep. `gho_` tokens (device flow) are used directly and do
 * not expire; a "refresh" of one (after a backend 401) checks it at GET /user,
 * and a 401 there means a new login. `ghu_` editor tokens are exchanged for a
 * Copilot API token, cached until 5 minutes before it expires.
 */
import type { Deps } from "../../deps.ts";
import type { AccountRecord, UpstreamCredentials } from "../../model/accounts.ts";
import type { RefreshResult, StoredTokens } from "../account_types.ts";
import { COPILOT_TOKEN_MARGIN_MS } from "./constants.ts";
import { copilotApiBase, enterpriseDomainOf } from "./hosts.ts";
import { exchangeEditorToken, fetchGithubUser, isEditorToken } from "./github.ts";

export function copilotNeedsRefresh(tokens: StoredTokens, now: number, force: boolean): boolean {
  if (force) return true;
  if (!isEditorToken(tokens.accessToken)) return false;
  return !tokens.copilotToken || tokens.copilotTokenExpiresAt === undefined ||
    tokens.copilotTokenExpiresAt - COPILOT_TOKEN_MARGIN_MS <= now;
}

export async function refreshCopilot(
  deps: Deps,
  account: AccountRecord,
  tokens: StoredTokens,
): Promise<RefreshResult> {
  const domain = enterpriseDomainOf(account.meta);
  if (isEditorToken(tokens.accessToken)) {
    const exchanged = await exchangeEditorToken(deps, domain, tokens.accessToken);
    return { tokens: { accessToken: tokens.accessToken, ...exchanged } };
  }
  await fetchGithubUser(deps, domain, tokens.accessToken);
  return { tokens: { accessToken: tokens.accessToken } };
}

export function copilotUpstream(
  deps: Deps,
  account: AccountRecord,
  tokens: StoredTokens,
): UpstreamCredentials {
  if (isEditorToken(tokens.accessToken) && tokens.copilotToken) {
    return {
      accessToken: tokens.copilotToken,
      apiBase: tokens.copilotApiBase ?? copilotApiBase(deps, enterpriseDomainOf(account.meta)),
    };
  }
  return {
    accessToken: tokens.accessToken,
    apiBase: copilotApiBase(deps, enterpriseDomainOf(account.meta)),
  };
}

/** Daily check by the sweep: throws a permanent ProviderAuthError when GitHub says 401. */
export async function validateCopilot(
  deps: Deps,
  account: AccountRecord,
  tokens: StoredTokens,
): Promise<void> {
  await fetchGithubUser(deps, enterpriseDomainOf(account.meta), tokens.accessToken);
}

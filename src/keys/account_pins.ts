/**
 * Checks a key's pinned accounts (one per provider): the provider must be
 * one the key may use, and the account must exist and belong to it.
 */
import type { Deps } from "../deps.ts";
import { badRequest } from "../errors.ts";
import type { ProviderId } from "../model/providers.ts";
import { getAccount } from "../accounts/repository.ts";

export async function checkPinnedAccounts(
  deps: Deps,
  accounts: Partial<Record<ProviderId, string>> | undefined,
  providers: ProviderId[] | undefined,
): Promise<void> {
  if (!accounts) return;
  for (const [provider, accountId] of Object.entries(accounts) as [ProviderId, string][]) {
    if (providers && !providers.includes(provider)) {
      throw badRequest(
        "invalid_request",
        `Invalid "accounts.${provider}": the key is not allowed the provider ${provider}.`,
      );
    }
    const account = await getAccount(deps.kv, accountId);
    if (!account || account.provider !== provider) {
      throw badRequest(
        "invalid_request",
        `Invalid "accounts.${provider}": no ${provider} account has the id ${accountId}.`,
      );
    }
  }
}

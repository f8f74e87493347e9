/**
 * What the proxy calls before each backend request: a usable bearer for the
 * account (and the API base for Copilot), refreshed through the one refresh
 * path when it expires within 5 minutes, or when forced after a backend 401.
 */
import { accountAdapter } from "../providers/mod.ts";
import { AccountUnavailableError } from "./errors.ts";
import { type RefreshDeps, refreshTokens } from "./refresh.ts";
import { loadTokens } from "./repository.ts";
import type { AccountRecord, UpstreamCredentials } from "../model/accounts.ts";

export async function getUpstreamCredentials(
  deps: RefreshDeps,
  account: AccountRecord,
  options: { forceRefresh?: boolean } = {},
): Promise<UpstreamCredentials> {
  if (account.needsLogin) {
    throw new AccountUnavailableError(
      account.id,
      "needs_login",
      `Account ${account.label} needs a new login.`,
    );
  }
  const adapter = accountAdapter(account.provider);
  const force = options.forceRefresh ?? false;
  // Fast path: no KV write, no lease, when the stored tokens are good.
  let loaded = await loadTokens(deps, account.id);
  if (!loaded) {
    throw new AccountUnavailableError(
      account.id,
      "needs_login",
      `Account ${account.label} has no tokens.`,
    );
  }
  if (force || adapter.needsRefresh(loaded.tokens, deps.now(), false)) {
    loaded = await refreshTokens(deps, account.id, { force });
  }
  return adapter.upstream(deps, account, loaded.tokens);
}

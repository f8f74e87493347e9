/**
 * What the proxy engine uses from other areas, gathered so tests can replace
 * one piece (a credentials source that fails, a usage sink that collects).
 */
import type { Deps } from "../deps.ts";
import type { AccountRecord, UpstreamCredentials } from "../model/accounts.ts";
import type { ProviderId } from "../model/providers.ts";
import type { UsageEvent } from "../usage/types.ts";
import { getPrimaryAccountId, listAccounts } from "../accounts/repository.ts";
import { getUpstreamCredentials } from "../accounts/credentials.ts";
import { recordUsage } from "../usage/record.ts";

export interface ProxyServices {
  listAccounts(kv: Deno.Kv, provider: ProviderId): Promise<AccountRecord[]>;
  getPrimaryAccountId(kv: Deno.Kv, provider: ProviderId): Promise<string | undefined>;
  getUpstreamCredentials(
    deps: Deps,
    account: AccountRecord,
    options: { forceRefresh?: boolean },
  ): Promise<UpstreamCredentials>;
  recordUsage(deps: Deps, event: UsageEvent): Promise<void>;
}

export const defaultProxyServices: ProxyServices = {
  listAccounts,
  getPrimaryAccountId,
  getUpstreamCredentials,
  recordUsage,
};

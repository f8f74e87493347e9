/**
 * How many accounts each provider has in each status, for the /metrics
 * gauge: from this instance's cached account list (at most a second old) and
 * one KV list of the running cooldowns, with the status rules of the admin
 * view (status.ts).
 */
import type { Deps } from "../deps.ts";
import type { AccountStatus } from "../model/accounts.ts";
import { PROVIDER_IDS, type ProviderId } from "../model/providers.ts";
import { sharedAccountCache } from "./account_cache.ts";
import { CooldownCache } from "./cooldowns.ts";
import { accountStatus } from "./status.ts";

/** Every status, in the order of the admin view's precedence (the compiler checks it is complete). */
const STATUSES = Object.keys(
  {
    disabled: true,
    needs_login: true,
    cooling_down: true,
    expired: true,
    expiring: true,
    active: true,
  } satisfies Record<AccountStatus, true>,
) as AccountStatus[];

export interface AccountStatusCount {
  provider: ProviderId;
  status: AccountStatus;
  count: number;
}

/** Every provider × status pair, zeros included (a gauge that vanishes reads as "no data"). */
export async function accountStatusCounts(
  deps: Pick<Deps, "kv" | "now" | "runtime">,
): Promise<AccountStatusCount[]> {
  const [all, cooldowns] = await Promise.all([
    sharedAccountCache(deps).all(),
    new CooldownCache(deps).all(),
  ]);
  const now = deps.now();
  const accountWide = new Map<string, number>();
  for (const c of cooldowns) {
    if (c.model === "*") {
      accountWide.set(c.accountId, Math.max(c.until, accountWide.get(c.accountId) ?? 0));
    }
  }
  const out: AccountStatusCount[] = [];
  for (const provider of PROVIDER_IDS) {
    const counts = new Map<AccountStatus, number>(STATUSES.map((s) => [s, 0]));
    for (const account of all[provider].accounts) {
      const status = accountStatus(account, now, accountWide.get(account.id));
      counts.set(status, counts.get(status)! + 1);
    }
    for (const [status, count] of counts) out.push({ provider, status, count });
  }
  return out;
}

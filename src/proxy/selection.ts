/**
 * Which accounts a request may use, in which order
 * (docs/architecture.md#a-proxied-request-step-by-step, step 7):
 *
 * - A key pinned to an account for this provider uses that account only.
 *   Kleis: pinning is strict. An admin pins a key to keep a tenant on its
 *   own subscription; failing over to another account would spend someone
 *   else's quota. A pinned account that is cooling gives 503.
 * - Otherwise: the session's account (affinity), then the provider's
 *   primary, then the other enabled accounts by priority. Accounts that need
 *   a new login go last (they fail fast, but should not delay healthy ones).
 *
 * The account lists come from the per-instance cache in
 * src/accounts/account_cache.ts (shared with the model lists): an admin's
 * change reaches the request path within ACCOUNT_CACHE_TTL_MS on every
 * instance.
 */
import type { AccountRecord } from "../model/accounts.ts";

export interface OrderInput {
  /** The provider's accounts, sorted by priority. */
  accounts: readonly AccountRecord[];
  primaryId: string | undefined;
  pinnedId: string | undefined;
  affinityId: string | undefined;
}

/** The enabled accounts to try, best first (see the module comment). */
export function orderAccounts(input: OrderInput): AccountRecord[] {
  const enabled = input.accounts.filter((a) => a.enabled);
  if (input.pinnedId !== undefined) return enabled.filter((a) => a.id === input.pinnedId);
  const first: AccountRecord[] = [];
  const take = (id: string | undefined) => {
    const account = id === undefined ? undefined : enabled.find((a) => a.id === id);
    if (account && !first.includes(account)) first.push(account);
  };
  take(input.affinityId);
  take(input.primaryId);
  const ordered = [...first, ...enabled.filter((a) => !first.includes(a))];
  return [...ordered.filter((a) => !a.needsLogin), ...ordered.filter((a) => a.needsLogin)];
}

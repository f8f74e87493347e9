/**
 * Which accounts a request may use, in which order (issue 4, item 2):
 *
 * - A key pinned to an account for this provider uses that account only.
 *   Kleis: pinning is strict. An admin pins a key to keep a tenant on its
 *   own subscription; failing over to another account would spend someone
 *   else's quota. A pinned account that is cooling gives 503.
 * - Otherwise: the session's account (affinity), then the provider's
 *   primary, then the other enabled accounts by priority. Accounts that need
 *   a new login go last (they fail fast, but should not delay healthy ones).
 *
 * Account lists are cached per instance for ACCOUNT_CACHE_TTL_MS: an admin's
 * change reaches the request path within that time on every instance.
 */
import type { Deps } from "../deps.ts";
import type { AccountRecord } from "../accounts/types.ts";
import type { ProviderId } from "../providers/ids.ts";
import type { ProxyServices } from "./services.ts";

export const ACCOUNT_CACHE_TTL_MS = 1_000;

export interface ProviderAccounts {
  accounts: AccountRecord[];
  primaryId: string | undefined;
}

export class AccountCache {
  #entries = new Map<ProviderId, { value: ProviderAccounts; at: number }>();
  #loading = new Map<ProviderId, Promise<ProviderAccounts>>();

  constructor(
    private readonly deps: Pick<Deps, "kv" | "now">,
    private readonly services: Pick<ProxyServices, "listAccounts" | "getPrimaryAccountId">,
    private readonly ttlMs = ACCOUNT_CACHE_TTL_MS,
  ) {}

  async get(provider: ProviderId): Promise<ProviderAccounts> {
    const now = this.deps.now();
    const cached = this.#entries.get(provider);
    if (cached && now - cached.at < this.ttlMs && now >= cached.at) return cached.value;
    let loading = this.#loading.get(provider);
    if (!loading) {
      loading = this.#load(provider).finally(() => this.#loading.delete(provider));
      this.#loading.set(provider, loading);
    }
    return await loading;
  }

  async #load(provider: ProviderId): Promise<ProviderAccounts> {
    const at = this.deps.now();
    const [accounts, primaryId] = await Promise.all([
      this.services.listAccounts(this.deps.kv, provider),
      this.services.getPrimaryAccountId(this.deps.kv, provider),
    ]);
    const value = { accounts, primaryId };
    this.#entries.set(provider, { value, at });
    return value;
  }

  invalidate(): void {
    this.#entries.clear();
  }
}

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

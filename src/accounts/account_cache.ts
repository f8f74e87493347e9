/**
 * The account store as the request path sees it: each provider's accounts
 * (by priority) and primary, cached per instance for ACCOUNT_CACHE_TTL_MS so
 * a request reads no KV. The proxy engine and the model lists share one
 * cache per app (`sharedAccountCache`).
 *
 * An admin's change reaches every instance within the TTL (1 s), measured
 * with the injected clock, and the instance that made it at once: any
 * account-store write committed by this app (kv_commit.ts counts them)
 * drops the copy, as does `invalidate()`; a clock that goes backwards counts
 * as expired too. Loads are single-flight: requests arriving on an expired
 * entry wait for one KV read.
 */
import type { Deps } from "../deps.ts";
import { PROVIDER_IDS, type ProviderId } from "../model/providers.ts";
import { localCommits } from "./kv_commit.ts";
import { retainEgress } from "./egress.ts";
import { runtimeSlot } from "../runtime.ts";
import { getPrimaryAccountId, listAccounts } from "./repository.ts";
import type { AccountRecord } from "../model/accounts.ts";

export const ACCOUNT_CACHE_TTL_MS = 1_000;

/** Where the cache reads accounts from (the repository; tests may replace it). */
export interface AccountSource {
  listAccounts(kv: Deno.Kv, provider: ProviderId): Promise<AccountRecord[]>;
  getPrimaryAccountId(kv: Deno.Kv, provider: ProviderId): Promise<string | undefined>;
}

export const repositoryAccountSource: AccountSource = { listAccounts, getPrimaryAccountId };

/** One provider's accounts. Treat as immutable: the same object is handed to every reader. */
export interface ProviderAccounts {
  /** Sorted by priority, then creation. */
  accounts: readonly AccountRecord[];
  primaryId: string | undefined;
}

export type AllAccounts = Readonly<Record<ProviderId, ProviderAccounts>>;

interface Entry {
  value: ProviderAccounts;
  at: number;
  /** The generation (invalidations + local commits) the load started in. */
  generation: number;
}

export class AccountCache {
  #entries = new Map<ProviderId, Entry>();
  #loading = new Map<ProviderId, { promise: Promise<ProviderAccounts>; generation: number }>();
  #invalidations = 0;

  constructor(
    private readonly deps: Pick<Deps, "kv" | "now" | "runtime">,
    private readonly source: AccountSource = repositoryAccountSource,
    private readonly ttlMs = ACCOUNT_CACHE_TTL_MS,
  ) {}

  /** Moves on every invalidate() and every account-store write committed by this app. */
  #generation(): number {
    return this.#invalidations + localCommits(this.deps);
  }

  /** The cached value when still valid (see the file comment), else undefined. */
  #fresh(provider: ProviderId, generation: number, now: number): ProviderAccounts | undefined {
    const cached = this.#entries.get(provider);
    return cached && cached.generation === generation && now >= cached.at &&
        now - cached.at < this.ttlMs
      ? cached.value
      : undefined;
  }

  async get(provider: ProviderId): Promise<ProviderAccounts> {
    const generation = this.#generation();
    const fresh = this.#fresh(provider, generation, this.deps.now());
    if (fresh) return fresh;
    let loading = this.#loading.get(provider);
    // A load begun before an invalidate may have read the old state: do not join it.
    if (!loading || loading.generation !== generation) {
      const promise = this.#load(provider, generation).finally(() => {
        if (this.#loading.get(provider)?.promise === promise) this.#loading.delete(provider);
      });
      loading = { promise, generation };
      this.#loading.set(provider, loading);
    }
    return await loading.promise;
  }

  /** Every provider's accounts (the same object while no provider's list changes). */
  async all(): Promise<AllAccounts> {
    const generation = this.#generation();
    const now = this.deps.now();
    const values = PROVIDER_IDS.map((p) => this.#fresh(p, generation, now));
    // The request path: everything cached, no promise per provider.
    if (values.every((v) => v !== undefined)) return this.#combined(values);
    return this.#combined(await Promise.all(PROVIDER_IDS.map((p) => this.get(p))));
  }

  #all?: AllAccounts;
  #combined(values: ProviderAccounts[]): AllAccounts {
    const last = this.#all;
    if (last && PROVIDER_IDS.every((p, i) => last[p] === values[i])) return last;
    return this.#all = Object.fromEntries(
      PROVIDER_IDS.map((p, i) => [p, values[i]!]),
    ) as AllAccounts;
  }

  /** Forgets every cached list: the next read goes to KV. */
  invalidate(): void {
    this.#invalidations++;
    this.#entries.clear();
  }

  async #load(provider: ProviderId, generation: number): Promise<ProviderAccounts> {
    const at = this.deps.now();
    const [accounts, primaryId] = await Promise.all([
      this.source.listAccounts(this.deps.kv, provider),
      this.source.getPrimaryAccountId(this.deps.kv, provider),
    ]);
    const value: ProviderAccounts = { accounts, primaryId };
    // Outbound proxy clients of accounts gone or changed elsewhere are closed here.
    retainEgress(this.deps, provider, accounts);
    if (generation === this.#generation()) this.#entries.set(provider, { value, at, generation });
    return value;
  }
}

const SHARED = runtimeSlot(
  "accounts.cache",
  () => ({ cache: undefined as AccountCache | undefined }),
);

/**
 * This app's cache over the repository (one per app, so two apps on one
 * database behave as two instances). The first caller's clock measures the
 * TTL.
 */
export function sharedAccountCache(deps: Pick<Deps, "kv" | "now" | "runtime">): AccountCache {
  const slot = deps.runtime.get(SHARED);
  return slot.cache ??= new AccountCache({ kv: deps.kv, now: deps.now, runtime: deps.runtime });
}

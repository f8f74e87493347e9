/**
 * The per-instance state behind the selection strategies
 * (docs/architecture.md#account-selection): the providers' strategies
 * (cached like the account lists), each provider's round-robin turn, and
 * for least-used the accounts' quota headroom.
 *
 * Where the round-robin position lives: in this instance's memory, one
 * counter per provider, started at a random value. A shared KV counter
 * would add a KV write to every proxied request (the benchmark allows two
 * in all) and make every instance contend on one key. Instances rotating
 * on their own still spread evenly: each sends 1/n of its requests to each
 * of n accounts, so the sum over any number of instances does too; the
 * random start keeps fifty fresh instances from all beginning with the same
 * account. What is given up is strict alternation across instances, which
 * no client can observe.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import type { AccountRecord } from "../model/accounts.ts";
import type { ProviderId } from "../model/providers.ts";
import type { SelectionStrategy } from "../model/selection.ts";
import { getSelectionStrategies } from "../accounts/selection_settings.ts";
import { localCommits } from "../accounts/kv_commit.ts";
import { blockingCooldown, type CooldownCache } from "../accounts/cooldowns.ts";
import type { AccountQuotaRecord } from "./quota_headroom.ts";
import { leastUsedScore, orderAccounts, type OrderInput } from "./selection.ts";

/** How stale a strategy may be on another instance (as the account lists). */
export const STRATEGY_CACHE_TTL_MS = 1_000;
/**
 * How stale least-used's headroom may be. The readings themselves are
 * written at most once a minute per account and instance
 * (QUOTA_WRITE_INTERVAL_MS), so a few seconds more change nothing.
 */
export const USAGE_CACHE_TTL_MS = 5_000;
/** Deno KV's getMany limit. */
const GET_MANY = 10;

type Base = Pick<OrderInput, "accounts" | "primaryId" | "pinnedId" | "affinityId">;

export class Selector {
  #strategies:
    | { value: Map<ProviderId, SelectionStrategy>; at: number; generation: number }
    | undefined;
  #loadingStrategies:
    | { promise: Promise<Map<ProviderId, SelectionStrategy>>; generation: number }
    | undefined;
  #turns = new Map<ProviderId, number>();
  #usage = new Map<ProviderId, { at: number; ids: string; scores: Map<string, number> }>();

  constructor(
    private readonly deps: Pick<Deps, "kv" | "now" | "random" | "runtime">,
    private readonly cooldowns: CooldownCache,
  ) {}

  /** The accounts to try for this request, best first. */
  async order(provider: ProviderId, model: string, input: Base): Promise<AccountRecord[]> {
    if (input.pinnedId !== undefined) return orderAccounts(input);
    const strategy = await this.strategy(provider);
    if (strategy === "round-robin") {
      const cooldowns = await this.cooldowns.all();
      const now = this.deps.now();
      return orderAccounts({
        ...input,
        strategy,
        turn: input.affinityId === undefined ? this.#nextTurn(provider) : this.#turn(provider),
        blocked: (id) => blockingCooldown(cooldowns, id, model, now) !== undefined,
      });
    }
    if (strategy === "least-used") {
      return orderAccounts({ ...input, strategy, usage: await this.#scores(provider, input) });
    }
    return orderAccounts(input);
  }

  /** The provider's strategy as this instance sees it (a local change at once). */
  async strategy(provider: ProviderId): Promise<SelectionStrategy> {
    const generation = localCommits(this.deps);
    const now = this.deps.now();
    const cached = this.#strategies;
    if (
      cached && cached.generation === generation && now >= cached.at &&
      now - cached.at < STRATEGY_CACHE_TTL_MS
    ) return cached.value.get(provider) ?? "fill-first";
    // A load begun before a local change may have read the old strategy: do not join it.
    let loading = this.#loadingStrategies;
    if (loading?.generation !== generation) {
      const promise = getSelectionStrategies(this.deps.kv).then((list) => {
        const value = new Map(list.map((s) => [s.provider, s.strategy]));
        if (generation === localCommits(this.deps)) {
          this.#strategies = { value, at: now, generation };
        }
        return value;
      }).finally(() => {
        if (this.#loadingStrategies?.promise === promise) this.#loadingStrategies = undefined;
      });
      loading = this.#loadingStrategies = { promise, generation };
    }
    return (await loading.promise).get(provider) ?? "fill-first";
  }

  #turn(provider: ProviderId): number {
    let turn = this.#turns.get(provider);
    if (turn === undefined) {
      const bytes = this.deps.random(4);
      turn = ((bytes[0]! << 16) | (bytes[1]! << 8) | bytes[2]!) % 1_000_000;
      this.#turns.set(provider, turn);
    }
    return turn;
  }

  #nextTurn(provider: ProviderId): number {
    const turn = this.#turn(provider);
    this.#turns.set(provider, (turn + 1) % Number.MAX_SAFE_INTEGER);
    return turn;
  }

  async #scores(provider: ProviderId, input: Base): Promise<Map<string, number>> {
    const now = this.deps.now();
    const ids = input.accounts.filter((a) => a.enabled).map((a) => a.id);
    const idList = ids.join(",");
    const cached = this.#usage.get(provider);
    if (
      cached && cached.ids === idList && now >= cached.at && now - cached.at < USAGE_CACHE_TTL_MS
    ) return cached.scores;
    const scores = new Map<string, number>();
    for (let i = 0; i < ids.length; i += GET_MANY) {
      const chunk = ids.slice(i, i + GET_MANY);
      const entries = await this.deps.kv.getMany<AccountQuotaRecord[]>(
        chunk.map((id) => keys.accountQuota(id)),
      );
      chunk.forEach((id, j) => {
        const score = leastUsedScore(entries[j]?.value?.windows, now);
        if (score !== undefined) scores.set(id, score);
      });
    }
    this.#usage.set(provider, { at: now, ids: idList, scores });
    return scores;
  }
}

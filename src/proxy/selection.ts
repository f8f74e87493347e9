/**
 * Which accounts a request may use, in which order
 * (docs/architecture.md#a-proxied-request-step-by-step, step 7):
 *
 * - A key pinned to an account for this provider uses that account only.
 *   Kleis: pinning is strict. An admin pins a key to keep a tenant on its
 *   own subscription; failing over to another account would spend someone
 *   else's quota. A pinned account that is cooling gives 503.
 * - Otherwise the session's account first (affinity), then the others as
 *   the provider's strategy orders them (docs/architecture.md#account-selection):
 *   - fill-first (the default): the provider's primary, then the other
 *     enabled accounts by priority;
 *   - round-robin: by priority, and within each group of equal priority
 *     rotated by the instance's turn counter (src/proxy/selector.ts), only
 *     accounts that can serve now counted, so a cooling account does not
 *     double its neighbour's share;
 *   - least-used: by the used fraction of each account's tightest known
 *     quota window (leastUsedScore), lowest first, priority breaking ties.
 *   The primary has no special place under round-robin and least-used: it
 *   would take every request the strategy means to spread.
 * - Accounts that need a new login go last (they fail fast, but should not
 *   delay healthy ones). The rest of the list is the failover order.
 *
 * The account lists come from the per-instance cache in
 * src/accounts/account_cache.ts (shared with the model lists): an admin's
 * change reaches the request path within ACCOUNT_CACHE_TTL_MS on every
 * instance.
 */
import type { AccountRecord } from "../model/accounts.ts";
import type { QuotaWindow } from "../model/quota.ts";
import type { SelectionStrategy } from "../model/selection.ts";

export interface OrderInput {
  /** The provider's accounts, sorted by priority. */
  accounts: readonly AccountRecord[];
  primaryId: string | undefined;
  pinnedId: string | undefined;
  affinityId: string | undefined;
  /** Absent: fill-first. */
  strategy?: SelectionStrategy;
  /** round-robin: this request's turn (any integer; taken modulo each group's size). */
  turn?: number;
  /** least-used: leastUsedScore of each account with a known window; absent counts as 0. */
  usage?: ReadonlyMap<string, number>;
  /** round-robin: accounts that cannot serve this request now (cooling down). */
  blocked?: (accountId: string) => boolean;
}

/** The enabled accounts to try, best first (see the module comment). */
export function orderAccounts(input: OrderInput): AccountRecord[] {
  const enabled = input.accounts.filter((a) => a.enabled);
  if (input.pinnedId !== undefined) return enabled.filter((a) => a.id === input.pinnedId);
  const strategy = input.strategy ?? "fill-first";
  const first: AccountRecord[] = [];
  const take = (id: string | undefined) => {
    const account = id === undefined ? undefined : enabled.find((a) => a.id === id);
    if (account && !first.includes(account)) first.push(account);
  };
  take(input.affinityId);
  if (strategy === "fill-first") take(input.primaryId);
  const rest = enabled.filter((a) => !first.includes(a));
  const ordered = [
    ...first,
    ...(strategy === "round-robin"
      ? rotateGroups(rest, input.turn ?? 0, input.blocked)
      : strategy === "least-used"
      ? byUsage(rest, input.usage)
      : rest),
  ];
  return [...ordered.filter((a) => !a.needsLogin), ...ordered.filter((a) => a.needsLogin)];
}

/**
 * Each run of equal priority rotated by `turn` among the accounts that can
 * serve (not cooling, no login needed); the others follow their group.
 */
function rotateGroups(
  accounts: readonly AccountRecord[],
  turn: number,
  blocked: ((id: string) => boolean) | undefined,
): AccountRecord[] {
  const out: AccountRecord[] = [];
  for (let start = 0; start < accounts.length;) {
    let end = start + 1;
    while (end < accounts.length && accounts[end]!.priority === accounts[start]!.priority) end++;
    const group = accounts.slice(start, end);
    const serving = group.filter((a) => !a.needsLogin && !blocked?.(a.id));
    const shift = serving.length === 0 ? 0 : ((turn % serving.length) + serving.length) %
      serving.length;
    out.push(...serving.slice(shift), ...serving.slice(0, shift));
    out.push(...group.filter((a) => !serving.includes(a)));
    start = end;
  }
  return out;
}

/** Lowest score first; equal scores keep the priority order (a stable sort). */
function byUsage(
  accounts: readonly AccountRecord[],
  usage: ReadonlyMap<string, number> | undefined,
): AccountRecord[] {
  const score = (a: AccountRecord) => usage?.get(a.id) ?? 0;
  return [...accounts].sort((a, b) => score(a) - score(b));
}

/**
 * How used an account is, for least-used: the highest used fraction (0..1)
 * among its known quota windows, since the tightest window is the one that
 * stops it first. A window whose reset time has passed counts as 0 (it has
 * reset since it was read). Undefined when nothing is known (no reading
 * yet, or a backend that sends no quota headers: Copilot); the ordering
 * counts that as 0, so a fresh account is tried, and its first answer tells
 * its headroom.
 */
export function leastUsedScore(
  windows: readonly QuotaWindow[] | undefined,
  now: number,
): number | undefined {
  if (!windows || windows.length === 0) return undefined;
  let max = 0;
  for (const w of windows) {
    if (w.resetsAt !== undefined && w.resetsAt <= now) continue;
    const used = Number.isFinite(w.usedFraction) ? Math.min(1, Math.max(0, w.usedFraction)) : 0;
    max = Math.max(max, used);
  }
  return max;
}

/**
 * The one refresh path (docs/architecture.md#refresh-leases). Every caller, whether a proxied
 * request, the cron sweep or the admin, goes through refreshTokens():
 *
 * - In one process, concurrent callers for an account share one promise.
 * - Across processes, a KV lease (keys.refreshLease) with owner and deadline
 *   admits one refresher; the others poll the tokens' generation and use the
 *   new tokens as soon as it changes. A lease left by a dead process expires
 *   and the next caller retries with the stored (never rotated) token.
 * - The rotated tokens are committed, sealed, before anyone uses them; the
 *   commit checks that the lease is still ours and that nobody else wrote
 *   tokens meanwhile.
 * - Permanent failures mark the account needs_login once; transient ones are
 *   retried a bounded number of times with backoff.
 */
import { commit } from "./kv_commit.ts";
import type { Deps } from "../deps.ts";
import { randomId } from "../crypto.ts";
import { keys } from "../kv/keys.ts";
import { KleisError } from "../errors.ts";
import { accountAdapter } from "../providers/mod.ts";
import { withAccountEgress } from "./egress.ts";
import { auditRecord } from "../audit.ts";
import { alertNeedsLogin } from "../alerts/events.ts";
import { AccountUnavailableError } from "./errors.ts";
import { ProviderAuthError } from "../providers/common/errors.ts";
import {
  type LoadedTokens,
  loadTokens,
  sealTokens,
  type TokenEnvelope,
  updateRecord,
} from "./repository.ts";
import type { AccountRecord } from "../model/accounts.ts";
import { REFRESH_MARGIN_MS } from "../providers/common/expiry.ts";
import { runtimeSlot } from "../runtime.ts";
import { observeRefresh } from "../metrics/metrics.ts";

export interface RefreshLease {
  owner: string;
  /** ms, judged with deps.now() */
  deadline: number;
}

export interface RefreshTuning {
  /** Lease lifetime; renewed before each attempt, longer than one attempt's timeout. */
  leaseMs: number;
  /** How often a waiting caller looks at the tokens' generation. */
  pollMs: number;
  /** Give up waiting for another refresher after this long (measured in polls). */
  maxWaitMs: number;
  /** Backoff before each retry of a transient failure; its length is the number of retries. */
  backoffMs: number[];
  sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_REFRESH_TUNING: RefreshTuning = {
  leaseMs: 10_000,
  pollMs: 100,
  maxWaitMs: 15_000,
  backoffMs: [500, 1_000, 2_000],
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Deps with optional refresh tuning (tests make backoff and polling fast). */
export type RefreshDeps = Deps & { refreshTuning?: Partial<RefreshTuning> };

export interface RefreshOptions {
  /** Refresh even if the token looks valid (after a backend 401, or the admin asking). */
  force?: boolean;
  /** Answer 409 instead of waiting when another refresh of this account is running. */
  failIfBusy?: boolean;
  /** Who asked, for the audit log. */
  actor?: string;
  /** Refresh when the token expires within this window instead of the 5-minute margin (sweep). */
  withinMs?: number;
  /**
   * With force: refresh even though the tokens were written moments ago (an
   * import checks at once that its refresh token still works).
   */
  evenIfJustWritten?: boolean;
}

/** Tokens written this recently count as fresh for a forced refresh. */
export const FORCE_DEBOUNCE_MS = 5_000;

/** Identifies this process in lease records (many instances may share one KV). */
const INSTANCE = randomId();
/** This app's refreshes in flight, by account id. */
const INFLIGHT = runtimeSlot("accounts.refreshes", () => new Map<string, Promise<LoadedTokens>>());

function tuning(deps: RefreshDeps): RefreshTuning {
  return { ...DEFAULT_REFRESH_TUNING, ...deps.refreshTuning };
}

/**
 * Returns tokens that are fresh enough (refreshing them if the adapter says
 * so, or when forced). Concurrent callers share the one refresh.
 */
export function refreshTokens(
  deps: RefreshDeps,
  accountId: string,
  options: RefreshOptions = {},
): Promise<LoadedTokens> {
  const map = deps.runtime.get(INFLIGHT);
  const running = map.get(accountId);
  if (running) {
    if (options.failIfBusy) return Promise.reject(busy(accountId));
    return running;
  }
  const promise = runRefresh(deps, accountId, options).finally(() => map.delete(accountId));
  map.set(accountId, promise);
  return promise;
}

function busy(accountId: string): KleisError {
  return new KleisError(
    409,
    "refresh_in_progress",
    `A refresh of account ${accountId} is already running.`,
  );
}

async function runRefresh(
  deps: RefreshDeps,
  accountId: string,
  options: RefreshOptions,
): Promise<LoadedTokens> {
  const t = tuning(deps);
  const force = options.force ?? false;
  let waited = 0;
  let startGeneration: number | undefined;
  let ownRuns = 0;
  while (true) {
    const account = (await deps.kv.get<AccountRecord>(keys.account(accountId))).value;
    if (!account) throw new KleisError(404, "not_found", `Account ${accountId} was not found.`);
    const current = await loadTokens(deps, accountId);
    if (!current || account.needsLogin) {
      throw new AccountUnavailableError(
        accountId,
        "needs_login",
        `Account ${account.label} needs a new login.`,
      );
    }
    startGeneration ??= current.generation;
    // Someone else refreshed (or the admin logged in again) while we waited.
    if (current.generation > startGeneration) return current;
    const adapter = accountAdapter(account.provider);
    // A forced refresh right after another write reuses it: many requests that
    // saw the same 401 must not rotate the tokens many times.
    const forceNow = force &&
      (options.evenIfJustWritten === true || current.updatedAt < deps.now() - FORCE_DEBOUNCE_MS);
    const horizon = deps.now() +
      Math.max(0, (options.withinMs ?? REFRESH_MARGIN_MS) - REFRESH_MARGIN_MS);
    if (!adapter.needsRefresh(current.tokens, horizon, forceNow)) return current;

    const lease = await deps.kv.get<RefreshLease>(keys.refreshLease(accountId));
    if (lease.value && lease.value.deadline > deps.now()) {
      if (options.failIfBusy) throw busy(accountId);
      if (waited >= t.maxWaitMs) {
        throw new AccountUnavailableError(
          accountId,
          "refresh_failed",
          `Another refresh of account ${account.label} did not finish in time.`,
        );
      }
      await t.sleep(t.pollMs);
      waited += t.pollMs;
      continue;
    }
    if (ownRuns > 0) {
      // We already ran one refresh in this call and it did not produce new tokens.
      throw new AccountUnavailableError(
        accountId,
        "refresh_failed",
        `Refreshing account ${account.label} failed.`,
      );
    }
    const mine: RefreshLease = { owner: `${INSTANCE}/${randomId(deps.random)}`, deadline: 0 };
    mine.deadline = deps.now() + t.leaseMs;
    const taken = await commit(
      deps,
      deps.kv.atomic()
        .check(lease)
        .check({ key: keys.accountTokens(accountId), versionstamp: current.versionstamp })
        .set(keys.refreshLease(accountId), mine, { expireIn: t.leaseMs + 60_000 }),
    );
    if (!taken.ok) continue;
    ownRuns++;
    let result: LoadedTokens | undefined;
    try {
      result = await refreshUnderLease(deps, t, account, current, mine, options);
    } catch (error) {
      // Whatever failed, never leave our lease behind for others to wait out.
      await releaseLease(deps, accountId, mine).catch(() => {});
      throw error;
    }
    if (result) return result;
  }
}

/** Renews our lease; false when it is no longer ours. */
async function renewLease(
  deps: Deps,
  t: RefreshTuning,
  accountId: string,
  mine: RefreshLease,
): Promise<boolean> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const entry = await deps.kv.get<RefreshLease>(keys.refreshLease(accountId));
    if (entry.value?.owner !== mine.owner) return false;
    mine.deadline = deps.now() + t.leaseMs;
    const res = await commit(
      deps,
      deps.kv.atomic().check(entry)
        .set(keys.refreshLease(accountId), mine, { expireIn: t.leaseMs + 60_000 }),
    );
    if (res.ok) return true;
  }
  return false;
}

async function releaseLease(deps: Deps, accountId: string, mine: RefreshLease): Promise<void> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const entry = await deps.kv.get<RefreshLease>(keys.refreshLease(accountId));
    if (entry.value?.owner !== mine.owner) return;
    if (
      (await commit(deps, deps.kv.atomic().check(entry).delete(keys.refreshLease(accountId)))).ok
    ) {
      return;
    }
  }
}

/**
 * Runs the refresh with retries while holding the lease. Returns the new
 * tokens, the old ones (transient failure, still valid, not forced), or
 * undefined when the caller should look again (someone else wrote tokens).
 */
async function refreshUnderLease(
  deps: RefreshDeps,
  t: RefreshTuning,
  account: AccountRecord,
  current: LoadedTokens,
  mine: RefreshLease,
  options: RefreshOptions,
): Promise<LoadedTokens | undefined> {
  const adapter = accountAdapter(account.provider);
  const actor = options.actor ?? "system";
  let lastError: ProviderAuthError | undefined;
  for (let attempt = 0; attempt <= t.backoffMs.length; attempt++) {
    if (attempt > 0) await t.sleep(t.backoffMs[attempt - 1] ?? 0);
    if (!(await renewLease(deps, t, account.id, mine))) {
      await releaseLease(deps, account.id, mine);
      return undefined;
    }
    try {
      const result = await adapter.refresh(
        withAccountEgress(deps, account),
        account,
        current.tokens,
      );
      observeRefresh(deps, account.provider);
      return await commitRefresh(deps, account, current, mine, result, actor);
    } catch (error) {
      if (!(error instanceof ProviderAuthError)) {
        await releaseLease(deps, account.id, mine);
        throw error;
      }
      lastError = error;
      observeRefresh(deps, account.provider, error);
      if (error.permanent) break;
      deps.log.warn("Token refresh failed; retrying.", {
        accountId: account.id,
        attempt: attempt + 1,
        code: error.code,
      });
    }
  }
  const error = lastError!;
  await recordFailure(deps, account, error, mine, actor);
  if (error.permanent) {
    throw new AccountUnavailableError(
      account.id,
      "needs_login",
      `Account ${account.label} needs a new login: ${error.message}`,
    );
  }
  const stillValid = current.tokens.expiresAt === undefined ||
    current.tokens.expiresAt > deps.now();
  if (!options.force && stillValid) return current;
  throw new AccountUnavailableError(
    account.id,
    "refresh_failed",
    `Refreshing account ${account.label} failed: ${error.message}`,
  );
}

/**
 * Commits the new tokens (and the record's bookkeeping) atomically, checking
 * that nobody wrote tokens since we read them and that the lease is ours.
 * If our lease expired but no one wrote tokens, we still commit: we hold the
 * only valid refresh token of a rotating chain, and dropping it would lose the
 * account.
 */
async function commitRefresh(
  deps: Deps,
  account: AccountRecord,
  current: LoadedTokens,
  mine: RefreshLease,
  result: Awaited<ReturnType<ReturnType<typeof accountAdapter>["refresh"]>>,
  actor: string,
): Promise<LoadedTokens | undefined> {
  const sealed = await sealTokens(deps, account.id, result.tokens);
  // The provider has already rotated the refresh token: giving up here would
  // lose it, so keep trying through write contention (each failed commit waits a little).
  for (let attempt = 0; attempt < 200; attempt++) {
    const now = deps.now();
    const [lease, tokensEntry, recordEntry] = await deps.kv.getMany<
      [RefreshLease, TokenEnvelope, AccountRecord]
    >([keys.refreshLease(account.id), keys.accountTokens(account.id), keys.account(account.id)]);
    if (tokensEntry.versionstamp !== current.versionstamp) {
      deps.log.warn("Tokens changed during a refresh; the refreshed tokens are dropped.", {
        accountId: account.id,
      });
      await releaseLease(deps, account.id, mine);
      return undefined;
    }
    if (!recordEntry.value) return undefined;
    const envelope: TokenEnvelope = {
      generation: current.generation + 1,
      sealed,
      updatedAt: now,
    };
    const record: AccountRecord = { ...recordEntry.value, lastRefreshAt: now, updatedAt: now };
    delete record.lastRefreshError;
    delete record.needsLogin;
    if (result.tokens.expiresAt !== undefined) record.expiresAt = result.tokens.expiresAt;
    else delete record.expiresAt;
    if (result.identity?.plan) record.plan = result.identity.plan;
    if (result.identity?.email) record.email = result.identity.email;
    if (result.identity?.meta) record.meta = { ...record.meta, ...result.identity.meta };
    const audit = auditRecord(deps, {
      action: "account.refreshed",
      actor,
      target: account.id,
      details: { provider: account.provider, generation: envelope.generation },
    });
    const op = deps.kv.atomic()
      .check(tokensEntry)
      .check(recordEntry)
      .check(lease)
      .set(keys.accountTokens(account.id), envelope)
      .set(keys.account(account.id), record)
      .set(audit.key, audit.value, { expireIn: audit.expireIn });
    if (lease.value?.owner === mine.owner) op.delete(keys.refreshLease(account.id));
    else deps.log.warn("Refresh lease expired before the commit.", { accountId: account.id });
    const res = await commit(deps, op);
    if (res.ok) {
      return {
        tokens: result.tokens,
        generation: envelope.generation,
        updatedAt: now,
        versionstamp: res.versionstamp,
      };
    }
  }
  await releaseLease(deps, account.id, mine);
  throw new AccountUnavailableError(
    account.id,
    "refresh_failed",
    `Could not store the refreshed tokens of account ${account.label}.`,
  );
}

async function recordFailure(
  deps: Deps,
  account: AccountRecord,
  error: ProviderAuthError,
  mine: RefreshLease,
  actor: string,
): Promise<void> {
  const audit = auditRecord(deps, {
    action: "account.refresh_failed",
    actor,
    target: account.id,
    details: { provider: account.provider, code: error.code, permanent: error.permanent },
  });
  await updateRecord(deps, account.id, (r) => {
    const next: AccountRecord = { ...r, lastRefreshError: error.message, updatedAt: deps.now() };
    if (error.permanent) next.needsLogin = true;
    return next;
  }, (op) => op.set(audit.key, audit.value, { expireIn: audit.expireIn }));
  await releaseLease(deps, account.id, mine);
  if (error.permanent) alertNeedsLogin(deps, account.id, error.message);
  deps.log.warn("Token refresh failed.", {
    accountId: account.id,
    code: error.code,
    permanent: error.permanent,
  });
}

/** Marks an account needs_login after a permanent auth failure outside a refresh (validation). */
export async function markNeedsLogin(
  deps: Deps,
  accountId: string,
  reason: string,
  actor = "system",
): Promise<void> {
  const audit = auditRecord(deps, {
    action: "account.needs_login",
    actor,
    target: accountId,
    details: { reason },
  });
  await updateRecord(deps, accountId, (r) => ({
    ...r,
    needsLogin: true,
    lastRefreshError: reason,
    updatedAt: deps.now(),
  }), (op) => op.set(audit.key, audit.value, { expireIn: audit.expireIn }));
  alertNeedsLogin(deps, accountId, reason);
}

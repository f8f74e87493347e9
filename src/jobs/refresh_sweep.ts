/**
 * The token refresh sweep (Deno.cron "kleis-refresh-sweep", KLEIS_REFRESH_CRON):
 * refreshes every enabled account whose token expires within 30 minutes, and
 * checks each Copilot login once a day (GET /user; 401 → needs_login). It
 * goes through the same lease as every other refresh, so an instance
 * serving requests and one running the sweep never refresh an account twice.
 */
import { listAccounts, loadTokens, updateRecord } from "../accounts/repository.ts";
import { markNeedsLogin, type RefreshDeps, refreshTokens } from "../accounts/refresh.ts";
import { withAccountEgress } from "../accounts/egress.ts";
import { EXPIRING_WINDOW_MS } from "../providers/common/expiry.ts";
import { ProviderAuthError } from "../providers/common/errors.ts";
import { accountAdapter } from "../providers/mod.ts";

export const VALIDATE_EVERY_MS = 24 * 60 * 60_000;

export interface SweepSummary {
  refreshed: number;
  failed: number;
  validated: number;
  needsLogin: number;
}

export async function runRefreshSweep(deps: RefreshDeps): Promise<SweepSummary> {
  const summary: SweepSummary = { refreshed: 0, failed: 0, validated: 0, needsLogin: 0 };
  for (const account of await listAccounts(deps.kv)) {
    if (!account.enabled || account.needsLogin) continue;
    const now = deps.now();
    if (account.expiresAt !== undefined && account.expiresAt - now < EXPIRING_WINDOW_MS) {
      try {
        const before = await loadTokens(deps, account.id);
        const after = await refreshTokens(deps, account.id, {
          withinMs: EXPIRING_WINDOW_MS,
          actor: "system",
        });
        if (after.generation !== before?.generation) summary.refreshed++;
      } catch (error) {
        summary.failed++;
        deps.log.warn("The sweep could not refresh an account.", {
          accountId: account.id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      continue;
    }
    const adapter = accountAdapter(account.provider);
    const lastValidated = Number(account.meta["lastValidatedAt"] ?? 0);
    if (adapter.validate && now - lastValidated >= VALIDATE_EVERY_MS) {
      const loaded = await loadTokens(deps, account.id);
      if (!loaded) continue;
      try {
        await adapter.validate(withAccountEgress(deps, account), account, loaded.tokens);
        summary.validated++;
        await updateRecord(deps, account.id, (r) => ({
          ...r,
          meta: { ...r.meta, lastValidatedAt: deps.now() },
        }));
      } catch (error) {
        if (error instanceof ProviderAuthError && error.permanent) {
          summary.needsLogin++;
          await markNeedsLogin(deps, account.id, error.message);
        } else {
          deps.log.warn("The sweep could not validate an account.", {
            accountId: account.id,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    }
  }
  return summary;
}

/** Registers the sweep with Deno.cron (not in unit tests: call runRefreshSweep directly). */
export function registerRefreshSweep(deps: RefreshDeps): void {
  Deno.cron("kleis-refresh-sweep", deps.config.refreshCron, async () => {
    try {
      const summary = await runRefreshSweep(deps);
      if (summary.refreshed || summary.failed || summary.needsLogin) {
        deps.log.info("Refresh sweep finished.", { ...summary });
      }
    } catch (error) {
      deps.log.error("Refresh sweep failed.", { error });
    }
  });
}

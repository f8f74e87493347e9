/**
 * Keeps the model registry warm: models.dev into KV, and every enabled
 * Copilot account's live model list. Run by a cron job and once in the
 * background at start-up; never on a request's path.
 */
import type { Deps } from "../deps.ts";
import { listAccounts } from "../accounts/repository.ts";
import { fetchCopilotModels } from "../registry/copilot_models.ts";
import { readCachePointer, refreshModelsDev } from "../registry/models_dev.ts";

export const REGISTRY_CRON_NAME = "kleis-registry-refresh";
/** Hourly, off the full hour (models.dev changes a few times a day at most). */
export const REGISTRY_CRON_SCHEDULE = "23 * * * *";
/** At start-up, a copy younger than this is kept as is (Deploy starts isolates often). */
export const STARTUP_FRESH_MS = 30 * 60_000;

export interface RegistryRefreshResult {
  modelsDev: "refreshed" | "fresh" | "failed";
  copilotAccounts: { refreshed: number; failed: number };
}

export async function refreshRegistry(
  deps: Deps,
  options: { skipIfFresherThanMs?: number } = {},
): Promise<RegistryRefreshResult> {
  const result: RegistryRefreshResult = {
    modelsDev: "refreshed",
    copilotAccounts: { refreshed: 0, failed: 0 },
  };
  const pointer = (await readCachePointer(deps.kv)).value;
  const fresh = options.skipIfFresherThanMs !== undefined && pointer !== null &&
    deps.now() - pointer.fetchedAt < options.skipIfFresherThanMs;
  const modelsDev = fresh ? Promise.resolve() : refreshModelsDev(deps).then(() => {}, () => {
    result.modelsDev = "failed"; // logged by refreshModelsDev; the stale copy stays
  });
  if (fresh) result.modelsDev = "fresh";

  const copilot = (await listAccounts(deps.kv, "copilot")).filter((a) => a.enabled);
  await Promise.all([
    modelsDev,
    ...copilot.map((account) =>
      fetchCopilotModels(deps, account).then(
        () => result.copilotAccounts.refreshed++,
        (error) => {
          result.copilotAccounts.failed++;
          deps.log.warn("Could not refresh the Copilot model list.", {
            accountId: account.id,
            error: error instanceof Error ? error.message : String(error),
          });
        },
      )
    ),
  ]);
  return result;
}

/** Registers the cron job and starts the start-up refresh (main.ts, via startBackgroundWork). */
export function startRegistryRefresh(deps: Deps): void {
  Deno.cron(REGISTRY_CRON_NAME, REGISTRY_CRON_SCHEDULE, async () => {
    await refreshRegistry(deps);
  });
  // In the background: start-up must not wait on models.dev.
  refreshRegistry(deps, { skipIfFresherThanMs: STARTUP_FRESH_MS }).catch((error) => {
    deps.log.warn("The start-up registry refresh failed.", {
      error: error instanceof Error ? error.message : String(error),
    });
  });
}

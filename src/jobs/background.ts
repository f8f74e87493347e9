/**
 * Registers the background work of an instance: cron jobs (token refresh
 * sweep, registry refresh, usage retention, scheduled backup) and the usage queue listener.
 * Each area adds its own registration here.
 */
import type { Deps } from "../deps.ts";
import { registerUsageWork } from "./usage_retention.ts";
import { startRegistryRefresh } from "./registry_refresh.ts";
import { registerRefreshSweep } from "./refresh_sweep.ts";
import { registerScheduledBackup } from "../backup/scheduled.ts";

export function startBackgroundWork(deps: Deps): void {
  registerUsageWork(deps);
  startRegistryRefresh(deps);
  registerRefreshSweep(deps);
  registerScheduledBackup(deps);
}

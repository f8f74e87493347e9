/** What the admin API and page show about scheduled backups: the set-up and the last outcomes. */
import type { Deps } from "../deps.ts";
import { type BackupStatus, readBackupStatus } from "./scheduled.ts";
import { openTarget } from "./target.ts";

export interface BackupOverview extends BackupStatus {
  configured: boolean;
  /** The target without credentials, or null. */
  target: string | null;
  schedule: string;
  keep: number;
  restoreFrom: string | null;
}

export async function backupOverview(deps: Deps): Promise<BackupOverview> {
  const { target, restoreFrom, schedule, keep } = deps.config.backup;
  return {
    configured: target !== undefined,
    target: target ? openTarget(target, deps).description : null,
    schedule,
    keep,
    restoreFrom: restoreFrom ? openTarget(restoreFrom, deps).description : null,
    ...await readBackupStatus(deps.kv),
  };
}

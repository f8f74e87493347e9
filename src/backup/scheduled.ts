/**
 * One scheduled backup run: seal the current state (the same file as
 * GET /admin/export), write it to the target with retries, keep the newest
 * N there, and record the outcome in KV for the admin. It runs in a cron
 * handler, never on a request's path; a target that fails or hangs costs
 * only this run (each attempt is bounded by the target's timeout).
 */
import type { Deps } from "../deps.ts";
import { appendAudit } from "../audit.ts";
import { alertBackupFailed } from "../alerts/events.ts";
import { keys } from "../kv/keys.ts";
import { buildBackupFile } from "../accounts/backup.ts";
import { takeLease } from "./lease.ts";
import {
  backupName,
  type BackupTarget,
  DEFAULT_TARGET_OPTIONS,
  openTarget,
  type TargetOptions,
} from "./target.ts";

export interface BackupOutcome {
  /** When the run started and ended (the injected clock). */
  at: number;
  finishedAt: number;
  ok: boolean;
  target: string;
  /** Why nothing was written (not a failure): e.g. an empty store. */
  skipped?: string;
  name?: string;
  bytes?: number;
  accounts?: number;
  apiKeys?: number;
  attempts: number;
  /** Backups the target holds after the write, and how many old ones were removed. */
  kept?: number;
  removed?: number;
  /** The last attempt's error (no secret: targets scrub their credentials). */
  error?: string;
}

export interface BackupStatus {
  lastRun: BackupOutcome | null;
  lastSuccess: BackupOutcome | null;
  lastFailure: BackupOutcome | null;
  consecutiveFailures: number;
}

export interface BackupRunOptions extends TargetOptions {
  /** Waits between attempts; one attempt more than there are delays. */
  retryDelaysMs: number[];
  sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_RUN_OPTIONS: BackupRunOptions = {
  ...DEFAULT_TARGET_OPTIONS,
  retryDelaysMs: [10_000, 60_000],
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Longer than a run with all its retries and timeouts; a dead holder's lease is taken over after it. */
const LEASE_MS = 15 * 60_000;

const NO_STATUS: BackupStatus = {
  lastRun: null,
  lastSuccess: null,
  lastFailure: null,
  consecutiveFailures: 0,
};

export async function readBackupStatus(kv: Deno.Kv): Promise<BackupStatus> {
  return (await kv.get<BackupStatus>(keys.backupStatus())).value ?? NO_STATUS;
}

async function record(deps: Deps, outcome: BackupOutcome): Promise<void> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const entry = await deps.kv.get<BackupStatus>(keys.backupStatus());
    const before = entry.value ?? NO_STATUS;
    const failed = !outcome.ok && !outcome.skipped;
    const next: BackupStatus = {
      lastRun: outcome,
      lastSuccess: outcome.ok ? outcome : before.lastSuccess,
      lastFailure: failed ? outcome : before.lastFailure,
      consecutiveFailures: failed
        ? before.consecutiveFailures + 1
        : outcome.ok
        ? 0
        : before.consecutiveFailures,
    };
    if ((await deps.kv.atomic().check(entry).set(keys.backupStatus(), next).commit()).ok) return;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs one backup to `target`. Answers undefined when another instance is
 * running one (the lease), else the recorded outcome.
 */
export async function runBackup(
  deps: Deps,
  target: BackupTarget,
  options: BackupRunOptions = DEFAULT_RUN_OPTIONS,
): Promise<BackupOutcome | undefined> {
  const lease = await takeLease(deps, keys.backupLease(), LEASE_MS);
  if (!lease) return undefined;
  const at = deps.now();
  try {
    const outcome = await writeWithRetries(deps, target, options, at);
    await record(deps, outcome);
    if (outcome.ok) {
      deps.log.info("Backup written.", { ...outcome });
    } else if (outcome.skipped) {
      deps.log.warn("Backup skipped.", { target: outcome.target, reason: outcome.skipped });
    } else {
      deps.log.error("Backup failed.", { ...outcome });
      await appendAudit(deps, {
        action: "backup.failed",
        actor: "system",
        details: {
          target: outcome.target,
          attempts: outcome.attempts,
          error: outcome.error ?? null,
        },
      });
      alertBackupFailed(deps, outcome);
    }
    return outcome;
  } finally {
    await lease.release();
  }
}

async function writeWithRetries(
  deps: Deps,
  target: BackupTarget,
  options: BackupRunOptions,
  at: number,
): Promise<BackupOutcome> {
  const base = { at, target: target.description };
  // An unfinished restore on start, or an empty store (most likely a lost KV
  // file): writing now would rotate the good copies out of the target.
  const restoring = (await deps.kv.get(keys.restoreLease())).value;
  if (restoring) {
    return {
      ...base,
      finishedAt: deps.now(),
      ok: false,
      attempts: 0,
      skipped: "a restore on start is running or did not finish",
    };
  }
  const file = await buildBackupFile(deps);
  if (file.accounts === 0) {
    return {
      ...base,
      finishedAt: deps.now(),
      ok: false,
      attempts: 0,
      skipped: "no accounts to back up (the older backups are kept as they are)",
    };
  }
  const name = backupName(file.createdAt);
  const data = new TextEncoder().encode(JSON.stringify(file));
  const counts = { name, bytes: data.byteLength, accounts: file.accounts, apiKeys: file.apiKeys };
  let error = "";
  const attempts = options.retryDelaysMs.length + 1;
  for (let i = 0; i < attempts; i++) {
    try {
      const written = await target.write(name, data, deps.config.backup.keep);
      return { ...base, ...counts, ...written, finishedAt: deps.now(), ok: true, attempts: i + 1 };
    } catch (caught) {
      error = messageOf(caught);
      deps.log.warn("Backup attempt failed.", {
        target: target.description,
        attempt: i + 1,
        error,
      });
      if (i < options.retryDelaysMs.length) await options.sleep(options.retryDelaysMs[i]!);
    }
  }
  return { ...base, ...counts, finishedAt: deps.now(), ok: false, attempts, error };
}

/** The cron handler: a backup to the configured target (nothing when none is configured). */
export function scheduledBackupJob(
  deps: Deps,
  overrides: Partial<BackupRunOptions> = {},
): () => Promise<void> {
  const options = { ...DEFAULT_RUN_OPTIONS, ...overrides };
  return async () => {
    const spec = deps.config.backup.target;
    if (!spec) return;
    try {
      await runBackup(deps, openTarget(spec, deps, options), options);
    } catch (error) {
      // Only KV itself failing gets here; the target's errors are recorded by runBackup.
      deps.log.error("The backup job failed.", { error: messageOf(error) });
    }
  };
}

export const BACKUP_CRON_NAME = "kleis-backup";

/** Registers the backup cron job when a target is configured (main.ts, via startBackgroundWork). */
export function registerScheduledBackup(deps: Deps): void {
  if (!deps.config.backup.target) return;
  Deno.cron(BACKUP_CRON_NAME, deps.config.backup.schedule, scheduledBackupJob(deps));
}

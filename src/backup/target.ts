/**
 * A place sealed backups are written to and read from. Every target keeps
 * files named kleis-backup-<UTC time>.json, so the names sort by age and
 * anything else stored there is never touched.
 */
import type { BackupTargetSpec } from "../config.ts";
import type { Deps } from "../deps.ts";
import { DirTarget } from "./dir_target.ts";
import { GitTarget } from "./git_target.ts";
import { S3Target } from "./s3_target.ts";

export interface WriteResult {
  /** Backups the target holds after the write. */
  kept: number;
  /** Older backups removed to keep the newest `keep`. */
  removed: number;
}

export interface BackupTarget {
  /** Where, without any credential: safe for logs, the audit and the admin API. */
  readonly description: string;
  /** Writes one backup, then removes all but the newest `keep` backups. */
  write(name: string, data: Uint8Array, keep: number): Promise<WriteResult>;
  /** The names of the backups held, oldest first. */
  list(): Promise<string[]>;
  read(name: string): Promise<Uint8Array>;
}

const NAME = /^kleis-backup-\d{8}T\d{9}Z\.json$/;

/** kleis-backup-20261122T120000000Z.json (milliseconds included: names never collide by accident). */
export function backupName(createdAt: number): string {
  const stamp = new Date(createdAt).toISOString().replace(/[-:.]/g, "");
  return `kleis-backup-${stamp}.json`;
}

export function isBackupName(name: string): boolean {
  return NAME.test(name);
}

/** Backup names among `names`, oldest first. */
export function backupNames(names: Iterable<string>): string[] {
  return [...names].filter(isBackupName).sort();
}

/** The names to remove so that the newest `keep` remain. */
export function namesToRemove(names: string[], keep: number): string[] {
  const sorted = backupNames(names);
  return sorted.slice(0, Math.max(0, sorted.length - keep));
}

/** Removes every listed secret from a message (before it is logged or stored). */
export function withoutSecrets(message: string, secrets: (string | undefined)[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out;
}

export interface TargetOptions {
  /** Upper bound of one network operation or git command. */
  timeoutMs: number;
}

export const DEFAULT_TARGET_OPTIONS: TargetOptions = { timeoutMs: 60_000 };

export function openTarget(
  spec: BackupTargetSpec,
  deps: Pick<Deps, "fetch" | "now">,
  options: TargetOptions = DEFAULT_TARGET_OPTIONS,
): BackupTarget {
  switch (spec.kind) {
    case "dir":
      return new DirTarget(spec.path);
    case "s3":
      return new S3Target(spec, deps, options);
    case "git":
      return new GitTarget(spec, options);
  }
}

/**
 * Restore on start: when KLEIS_RESTORE_FROM names a target and the store
 * holds no accounts, the newest backup there is restored before Kleis
 * serves. Instances starting together take a lease, so one restores and
 * the others wait for it; a lease left by an instance that died mid-restore
 * marks the restore unfinished, and the next start completes it (restoring
 * is idempotent, and never replaces a newer stored token with an older one).
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import { restoreBackup, type RestoreSummary } from "../accounts/backup.ts";
import { takeLease } from "./lease.ts";
import { type BackupTarget, openTarget } from "./target.ts";

export type RestoreOnStartResult =
  | { kind: "not_configured" }
  | { kind: "has_accounts" }
  | { kind: "no_backup"; target: string }
  | { kind: "restored"; target: string; name: string; summary: RestoreSummary };

export interface RestoreOnStartOptions {
  /** How long (real time) to wait for another instance's restore. */
  maxWaitMs: number;
  pollMs: number;
  /** For tests: the target to use instead of opening KLEIS_RESTORE_FROM. */
  target?: BackupTarget;
}

const DEFAULTS: RestoreOnStartOptions = { maxWaitMs: 120_000, pollMs: 250 };
/** A restore of even hundreds of accounts takes seconds; past this its holder is taken for dead. */
const LEASE_MS = 60_000;

export class RestoreError extends Error {
  override name = "RestoreError";
}

async function hasAccounts(kv: Deno.Kv): Promise<boolean> {
  for await (const _ of kv.list({ prefix: keys.accountsPrefix() }, { limit: 1 })) return true;
  return false;
}

export async function restoreOnStart(
  deps: Deps,
  options: Partial<RestoreOnStartOptions> = {},
): Promise<RestoreOnStartResult> {
  const spec = deps.config.backup.restoreFrom;
  if (!spec && !options.target) return { kind: "not_configured" };
  const { maxWaitMs, pollMs } = { ...DEFAULTS, ...options };
  const deadline = Date.now() + maxWaitMs;
  while (true) {
    const pending = (await deps.kv.get(keys.restoreLease())).value;
    if (!pending && await hasAccounts(deps.kv)) return { kind: "has_accounts" };
    const lease = await takeLease(deps, keys.restoreLease(), LEASE_MS);
    if (lease) {
      try {
        // Re-checked under the lease: another instance may have finished meanwhile.
        if (!lease.previous && await hasAccounts(deps.kv)) return { kind: "has_accounts" };
        if (lease.previous) {
          deps.log.warn("An earlier restore did not finish; completing it.", {});
        }
        return await restoreNewest(deps, options.target ?? openTarget(spec!, deps));
      } finally {
        await lease.release();
      }
    }
    if (Date.now() > deadline) {
      throw new RestoreError(
        `another instance has been restoring for more than ${Math.round(maxWaitMs / 1000)} s.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function restoreNewest(deps: Deps, target: BackupTarget): Promise<RestoreOnStartResult> {
  let name: string | undefined;
  let body: unknown;
  try {
    name = (await target.list()).at(-1);
    if (name === undefined) {
      deps.log.warn("KLEIS_RESTORE_FROM holds no backup; starting empty.", {
        target: target.description,
      });
      return { kind: "no_backup", target: target.description };
    }
    body = JSON.parse(new TextDecoder().decode(await target.read(name)));
  } catch (error) {
    throw new RestoreError(
      `could not read the newest backup from ${target.description}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  try {
    const summary = await restoreBackup(deps, body, "system", `${target.description} ${name}`);
    deps.log.info("Restored the newest backup on start.", {
      target: target.description,
      name,
      accounts: summary.accounts,
      apiKeys: summary.apiKeys,
      skipped: summary.skipped,
    });
    return { kind: "restored", target: target.description, name, summary };
  } catch (error) {
    throw new RestoreError(
      `${name} from ${target.description}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}

/**
 * The four events, each raised from a one-line hook in the module that sees
 * it, and each run off that module's path (alertInBackground):
 *
 * - account.needs_login (src/accounts/refresh.ts): once per account until it
 *   is logged in again (the token generation grows with every login).
 * - account.quota (src/proxy/quota_headroom.ts, src/accounts/quota.ts): once
 *   per account, quota window and reset time, when the window's used share
 *   reaches the threshold.
 * - key.tokens (src/usage/ingest.ts): once per key and UTC day, when its
 *   tokens that day reach the threshold share of its tokensPerDay.
 * - backup.failed (src/backup/scheduled.ts): at most once per UTC day while
 *   backups keep failing.
 *
 * The body says which account, key or target (ids and labels) and the
 * numbers, never a token, key secret or credential.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import type { AccountRecord } from "../model/accounts.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import type { QuotaWindow } from "../model/quota.ts";
import { alertInBackground, alreadyRaised, raiseAlert } from "./raise.ts";
import { alertsOn, readAlertSettings } from "./settings.ts";

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const dayStart = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
/**
 * Reset times of one window from two sources (headers in seconds, a usage
 * endpoint in ISO time) or computed from "resets in N seconds" differ a
 * little; windows are hours apart, so this much is one window.
 */
const RESET_TOLERANCE_MS = 10 * MINUTE_MS;
const iso = (ms: number | undefined) => ms === undefined ? null : new Date(ms).toISOString();

function accountSubject(account: AccountRecord | null, accountId: string) {
  return account
    ? { kind: "account" as const, id: accountId, label: account.label, provider: account.provider }
    : { kind: "account" as const, id: accountId };
}

/** An account was marked needs_login (a refresh or validation failed for good). */
export function alertNeedsLogin(deps: Deps, accountId: string, reason: string): void {
  alertInBackground(deps, async () => {
    const settings = await readAlertSettings(deps.kv);
    if (!alertsOn(settings, "account.needs_login")) return;
    const [account, tokens] = await deps.kv.getMany<[AccountRecord, { generation?: number }]>([
      keys.account(accountId),
      keys.accountTokens(accountId),
    ]);
    const name = account.value?.label ?? accountId;
    await raiseAlert(deps, settings, {
      type: "account.needs_login",
      summary: `Account ${name} needs a new login.`,
      subject: accountSubject(account.value, accountId),
      details: { reason },
      // The token generation grows with every login: a new login, a new alert.
      dedup: { subject: accountId, period: tokens.value?.generation ?? 0, ttlMs: 30 * DAY_MS },
    });
  });
}

/** Quota windows of an account as just read (backend headers or the provider's usage endpoint). */
export function alertQuota(deps: Deps, accountId: string, windows: QuotaWindow[]): void {
  if (windows.length === 0) return;
  alertInBackground(deps, async () => {
    const settings = await readAlertSettings(deps.kv);
    if (!alertsOn(settings, "account.quota")) return;
    const threshold = settings.quotaThresholdPercent / 100;
    const now = deps.now();
    // A window without a reset time counts as one per UTC day.
    const dedup = (w: QuotaWindow) =>
      w.resetsAt === undefined
        ? { subject: `${accountId}/${w.name}`, period: dayStart(now) }
        : { subject: `${accountId}/${w.name}`, period: w.resetsAt, tolerance: RESET_TOLERANCE_MS };
    const over = windows.filter((w) =>
      w.usedFraction >= threshold && !alreadyRaised(deps, "account.quota", dedup(w))
    );
    if (over.length === 0) return;
    const account = (await deps.kv.get<AccountRecord>(keys.account(accountId))).value;
    const name = account?.label ?? accountId;
    for (const w of over) {
      const used = Math.round(w.usedFraction * 1000) / 10;
      await raiseAlert(deps, settings, {
        type: "account.quota",
        summary: `Account ${name} has used ${used} % of its ${w.name} quota window.`,
        subject: accountSubject(account, accountId),
        details: {
          window: w.name,
          usedPercent: used,
          thresholdPercent: settings.quotaThresholdPercent,
          resetsAt: iso(w.resetsAt),
        },
        dedup: { ...dedup(w), ttlMs: Math.max(0, (w.resetsAt ?? now + DAY_MS) - now) + DAY_MS },
      });
    }
  });
}

/** Keys whose tokens for `day` just grew (usage ingestion). */
export function alertKeyTokens(deps: Deps, grown: { keyId: string; day: string }[]): void {
  if (grown.length === 0) return;
  alertInBackground(deps, async () => {
    const settings = await readAlertSettings(deps.kv);
    if (!alertsOn(settings, "key.tokens")) return;
    const period = (day: string) => Date.parse(`${day}T00:00:00Z`);
    const open = grown.filter((g) =>
      !alreadyRaised(deps, "key.tokens", { subject: g.keyId, period: period(g.day) })
    );
    // getMany reads at most 10 keys at a time.
    for (let i = 0; i < open.length; i += 5) {
      const batch = open.slice(i, i + 5);
      const entries = await deps.kv.getMany(
        batch.flatMap((g) => [keys.apiKey(g.keyId), keys.tokensInDay(g.keyId, g.day)]),
      );
      for (const [j, g] of batch.entries()) {
        const key = entries[2 * j]!.value as ApiKeyRecord | null;
        const total = entries[2 * j + 1]!.value;
        const limit = key?.limits?.tokensPerDay;
        if (!key || limit === undefined || !(total instanceof Deno.KvU64)) continue;
        const used = Number(total.value);
        if (used * 100 < limit * settings.keyTokensThresholdPercent) continue;
        const share = Math.round((used / limit) * 1000) / 10;
        await raiseAlert(deps, settings, {
          type: "key.tokens",
          summary: `API key ${key.label} has used ${share} % of its ${limit} tokens for ${g.day}.`,
          subject: { kind: "key", id: key.id, label: key.label },
          details: {
            day: g.day,
            tokensUsed: used,
            tokensPerDay: limit,
            usedPercent: share,
            thresholdPercent: settings.keyTokensThresholdPercent,
          },
          dedup: { subject: g.keyId, period: period(g.day), ttlMs: 2 * DAY_MS },
        });
      }
    }
  });
}

/** What the alert needs of a failed backup run (src/backup/scheduled.ts BackupOutcome). */
export interface FailedBackup {
  at: number;
  target: string;
  attempts: number;
  error?: string;
}

/** A backup run failed (after its retries). */
export function alertBackupFailed(deps: Deps, run: FailedBackup): void {
  alertInBackground(deps, async () => {
    const settings = await readAlertSettings(deps.kv);
    if (!alertsOn(settings, "backup.failed")) return;
    const status = (await deps.kv.get<{ consecutiveFailures?: number }>(keys.backupStatus())).value;
    await raiseAlert(deps, settings, {
      type: "backup.failed",
      summary: `The backup to ${run.target} failed after ${run.attempts} attempt${
        run.attempts === 1 ? "" : "s"
      }.`,
      subject: { kind: "backup", id: run.target },
      details: {
        target: run.target,
        attempts: run.attempts,
        startedAt: iso(run.at),
        consecutiveFailures: status?.consecutiveFailures ?? null,
        error: run.error ?? null,
      },
      dedup: { subject: "scheduled", period: dayStart(deps.now()), ttlMs: 2 * DAY_MS },
    });
  });
}

/**
 * Quota headroom from backend headers (x-codex-*, anthropic-ratelimit-unified-*),
 * stored per account at keys.accountQuota for the admin's account list. The
 * headers come with every answer; writing them on every answer would double
 * the KV writes of a request, so each instance writes an account's headroom
 * at most once per QUOTA_WRITE_INTERVAL_MS (and always after a cooldown, when
 * the numbers matter most).
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import type { QuotaReading, QuotaWindow } from "../model/quota.ts";
import { alertQuota } from "../alerts/events.ts";

export interface AccountQuotaRecord {
  updatedAt: number;
  windows: QuotaWindow[];
  /** The raw rate-limit headers last seen. */
  headers?: Record<string, string>;
}

export const QUOTA_WRITE_INTERVAL_MS = 60_000;
const MAX_TRACKED = 10_000;

export class QuotaRecorder {
  #lastWrite = new Map<string, number>();

  constructor(
    private readonly deps: Deps,
    private readonly intervalMs = QUOTA_WRITE_INTERVAL_MS,
  ) {}

  /**
   * Stores a reading unless this instance stored one for the account
   * recently. `read` parses the headers and runs only when a write is due,
   * not on every answer.
   */
  record(
    accountId: string,
    read: () => QuotaReading | undefined,
    force = false,
  ): Promise<void> {
    const now = this.deps.now();
    const last = this.#lastWrite.get(accountId);
    if (!force && last !== undefined && now - last < this.intervalMs && now >= last) {
      return Promise.resolve();
    }
    const reading = read();
    if (!reading) return Promise.resolve();
    if (this.#lastWrite.size >= MAX_TRACKED) this.#lastWrite.clear();
    this.#lastWrite.set(accountId, now);
    alertQuota(this.deps, accountId, reading.windows);
    const record: AccountQuotaRecord = {
      updatedAt: now,
      windows: reading.windows,
      headers: reading.headers,
    };
    return this.deps.kv.set(keys.accountQuota(accountId), record).then(
      () => {},
      (error) => this.deps.log.warn("Could not store quota headroom.", { accountId, error }),
    );
  }
}

export async function getAccountQuota(
  kv: Deno.Kv,
  accountId: string,
): Promise<AccountQuotaRecord | null> {
  return (await kv.get<AccountQuotaRecord>(keys.accountQuota(accountId))).value;
}

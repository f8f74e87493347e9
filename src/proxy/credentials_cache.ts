/**
 * Unsealed upstream credentials, kept in memory for a short while so a busy
 * account is not read from KV and unsealed (AES-GCM) on every request.
 *
 * An entry is used only while the account record it was fetched for is
 * unchanged (a refresh, a re-login or an admin edit changes `updatedAt`,
 * `expiresAt` or `lastRefreshAt`), for at most CREDENTIALS_TTL_MS, and never
 * within the refresh margin of the token's expiry, so the accounts area still
 * decides every refresh. A forced refresh (after a backend 401) bypasses it.
 */
import type { AccountRecord, UpstreamCredentials } from "../model/accounts.ts";

export const CREDENTIALS_TTL_MS = 30_000;
/** getUpstreamCredentials refreshes within 5 minutes of expiry; stay clear of that. */
const EXPIRY_MARGIN_MS = 5 * 60_000 + CREDENTIALS_TTL_MS;

interface Entry {
  credentials: UpstreamCredentials;
  generation: string;
  until: number;
}

function generation(account: AccountRecord): string {
  return `${account.updatedAt}:${account.expiresAt ?? ""}:${account.lastRefreshAt ?? ""}`;
}

export class CredentialsCache {
  #entries = new Map<string, Entry>();

  constructor(private readonly ttlMs = CREDENTIALS_TTL_MS) {}

  get(account: AccountRecord, now: number): UpstreamCredentials | undefined {
    const entry = this.#entries.get(account.id);
    if (!entry) return undefined;
    if (entry.generation !== generation(account) || now >= entry.until) {
      this.#entries.delete(account.id);
      return undefined;
    }
    return entry.credentials;
  }

  set(account: AccountRecord, credentials: UpstreamCredentials, now: number): void {
    let until = now + this.ttlMs;
    if (account.expiresAt !== undefined) {
      until = Math.min(until, account.expiresAt - EXPIRY_MARGIN_MS);
    }
    if (until <= now) return;
    this.#entries.set(account.id, { credentials, generation: generation(account), until });
  }

  forget(accountId: string): void {
    this.#entries.delete(accountId);
  }
}

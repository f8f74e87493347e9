/**
 * GET /admin/credentials/status: for every account, whether Kleis holds
 * usable credentials and how close they are to expiring, in the flat form
 * of the credential tools Kleis replaces. Built on the admin account view,
 * so status, expiry and refresh facts are computed the same way as in
 * GET /admin/accounts. Never a token.
 */
import type { Deps } from "../deps.ts";
import type { ProviderId } from "../model/providers.ts";
import { loadTokens } from "./repository.ts";
import { listAccountViews } from "./service.ts";
import type { AccountStatus } from "../model/accounts.ts";

export interface CredentialStatus {
  id: string;
  label: string;
  provider: ProviderId;
  status: AccountStatus;
  expiresAt: number | null;
  minutesUntilExpiry: number | null;
  needsRefreshSoon: boolean;
  isExpired: boolean;
  /** Sealed tokens are stored and open with the current KLEIS_ENCRYPTION_KEY. */
  hasCredentials: boolean;
  lastRefreshAt: number | null;
  lastRefreshError: string | null;
}

/** True when the account's tokens are stored and readable with this instance's key. */
async function readable(deps: Deps, accountId: string): Promise<boolean> {
  try {
    return (await loadTokens(deps, accountId)) !== undefined;
  } catch {
    // Sealed with another encryption key (or damaged): present but useless.
    return false;
  }
}

export async function credentialStatuses(
  deps: Deps,
): Promise<{ checkedAt: number; accounts: CredentialStatus[] }> {
  const checkedAt = deps.now();
  const views = await listAccountViews(deps);
  const accounts = await Promise.all(views.map(async (view): Promise<CredentialStatus> => ({
    id: view.id,
    label: view.label,
    provider: view.provider,
    status: view.status,
    expiresAt: view.expiresAt,
    minutesUntilExpiry: view.minutesUntilExpiry,
    needsRefreshSoon: view.needsRefreshSoon,
    isExpired: view.expiresAt !== null && view.expiresAt <= checkedAt,
    hasCredentials: await readable(deps, view.id),
    lastRefreshAt: view.lastRefreshAt,
    lastRefreshError: view.lastRefreshError ?? null,
  })));
  return { checkedAt, accounts };
}

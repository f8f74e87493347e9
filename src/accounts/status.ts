/**
 * The status of an account and its admin view (docs/api.md#accounts).
 *
 * Status precedence: disabled > needs_login > cooling_down > expired >
 * expiring > active. `expiring` means the access token expires within 30
 * minutes (the window in which the cron sweep refreshes it), and
 * `needsRefreshSoon` is true in that same window. Accounts whose tokens do
 * not expire (Copilot) have expiresAt and minutesUntilExpiry null.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import { EXPIRING_WINDOW_MS } from "../providers/common/expiry.ts";
import { getPrimaryAccountId } from "./repository.ts";
import type { AccountRecord, AccountStatus } from "../model/accounts.ts";
import type { ProviderId } from "../model/providers.ts";
import { getCooldowns } from "./cooldowns.ts";
import { getLastUsed } from "../usage/last_used.ts";

/** What the proxy stores at keys.accountQuota (src/proxy/quota_headroom.ts). */
export interface QuotaHeadroom {
  updatedAt: number;
  windows: { name: string; usedFraction: number; resetsAt?: number }[];
  headers?: Record<string, string>;
}

export interface AdminAccountView {
  id: string;
  provider: ProviderId;
  label: string;
  externalId: string;
  email?: string;
  plan?: string;
  enabled: boolean;
  isPrimary: boolean;
  priority: number;
  status: AccountStatus;
  expiresAt: number | null;
  minutesUntilExpiry: number | null;
  needsRefreshSoon: boolean;
  lastRefreshAt: number | null;
  lastRefreshError?: string;
  coolingDownUntil?: number;
  quota?: QuotaHeadroom;
  lastUsedAt?: number;
  /** The outbound proxy, redacted (`http://user:***@host:port`). */
  proxy?: string;
  createdAt: number;
}

/**
 * The status from the record, the injected clock and the account-wide
 * cooldown ("*"; a per-model cooldown leaves the account usable for other
 * models, so it does not change the status).
 */
export function accountStatus(
  account: AccountRecord,
  now: number,
  coolingDownUntil?: number,
): AccountStatus {
  if (!account.enabled) return "disabled";
  if (account.needsLogin) return "needs_login";
  if (coolingDownUntil !== undefined && coolingDownUntil > now) return "cooling_down";
  if (account.expiresAt !== undefined) {
    if (account.expiresAt <= now) return "expired";
    if (account.expiresAt - now < EXPIRING_WINDOW_MS) return "expiring";
  }
  return "active";
}

export async function adminAccountView(
  deps: Pick<Deps, "kv" | "now">,
  account: AccountRecord,
  primaryId?: string,
): Promise<AdminAccountView> {
  const now = deps.now();
  const cooldowns = await getCooldowns(deps.kv, account.id, now);
  const accountWide = cooldowns.find((c) => c.model === "*")?.until;
  const quota = (await deps.kv.get<QuotaHeadroom>(keys.accountQuota(account.id))).value;
  const lastUsedAt = await getLastUsed(deps.kv, "account", account.id) ?? account.lastUsedAt;
  const primary = primaryId ?? await getPrimaryAccountId(deps.kv, account.provider);
  const expiresAt = account.expiresAt ?? null;
  const view: AdminAccountView = {
    id: account.id,
    provider: account.provider,
    label: account.label,
    externalId: account.externalId,
    enabled: account.enabled,
    isPrimary: primary === account.id,
    priority: account.priority,
    status: accountStatus(account, now, accountWide),
    expiresAt,
    minutesUntilExpiry: expiresAt === null ? null : Math.floor((expiresAt - now) / 60_000),
    needsRefreshSoon: expiresAt !== null && expiresAt - now < EXPIRING_WINDOW_MS,
    lastRefreshAt: account.lastRefreshAt ?? null,
    createdAt: account.createdAt,
  };
  if (account.email !== undefined) view.email = account.email;
  if (account.plan !== undefined) view.plan = account.plan;
  if (account.lastRefreshError !== undefined) view.lastRefreshError = account.lastRefreshError;
  const latestCooldown = cooldowns.reduce((m, c) => Math.max(m, c.until), 0);
  if (latestCooldown > now) view.coolingDownUntil = accountWide ?? latestCooldown;
  if (quota) view.quota = quota;
  if (lastUsedAt !== undefined) view.lastUsedAt = lastUsedAt;
  if (account.proxy) view.proxy = account.proxy.display;
  return view;
}

/** Codex quota view: GET {chatgpt}/backend-api/wham/usage (docs/providers/codex.md#quota-view). */
import type { Deps } from "../../deps.ts";
import { num, obj, str } from "../common/http.ts";
import { fetchQuotaDocument, providerQuota, quotaWindow } from "../common/quota.ts";
import type { AccountRecord } from "../../model/accounts.ts";
import type { StoredTokens } from "../account_types.ts";
import type { ProviderQuota, QuotaWindow } from "../../model/quota.ts";
import { USAGE_PATH, USAGE_USER_AGENT } from "./constants.ts";

/** 18000 → "5h", 604800 → "7d". */
export function windowName(seconds: number | undefined, fallback: string): string {
  if (!seconds) return fallback;
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return `${Math.round(seconds / 60)}m`;
}

/** Asks the provider's quota endpoint for the account's windows (the admin's quota view). */
export async function fetchCodexQuota(
  deps: Deps,
  account: AccountRecord,
  tokens: StoredTokens,
): Promise<ProviderQuota> {
  const body = await fetchQuotaDocument(deps, deps.config.upstream.chatgpt + USAGE_PATH, {
    Authorization: `Bearer ${tokens.accessToken}`,
    "ChatGPT-Account-Id": account.externalId,
    "User-Agent": USAGE_USER_AGENT,
    Accept: "application/json",
  }, "Codex usage");
  const limits = obj(body["rate_limit"]);
  const windows: QuotaWindow[] = [];
  for (
    const [field, fallback] of [["primary_window", "primary"], ["secondary_window", "secondary"]]
  ) {
    const w = obj(limits?.[field as string]);
    if (!w) continue;
    const resetAt = num(w["reset_at"]);
    windows.push(quotaWindow(
      windowName(num(w["limit_window_seconds"]), fallback as string),
      (num(w["used_percent"]) ?? 0) / 100,
      resetAt !== undefined ? resetAt * 1000 : undefined,
    ));
  }
  return providerQuota(str(body["plan_type"]), windows);
}

/** Claude quota view: GET {anthropic-api}/api/oauth/usage (docs/providers/claude.md#quota-view). */
import type { Deps } from "../../deps.ts";
import { num, obj } from "../common/http.ts";
import { fetchQuotaDocument, isoTime, providerQuota, quotaWindow } from "../common/quota.ts";
import type { AccountRecord } from "../../model/accounts.ts";
import type { StoredTokens } from "../account_types.ts";
import type { ProviderQuota, QuotaWindow } from "../../model/quota.ts";
import { OAUTH_BETA, USAGE_PATH } from "./constants.ts";

const WINDOWS: [field: string, name: string][] = [
  ["five_hour", "5h"],
  ["seven_day", "7d"],
  ["seven_day_opus", "7d_opus"],
  ["seven_day_sonnet", "7d_sonnet"],
];

/** Asks the provider's quota endpoint for the account's windows (the admin's quota view). */
export async function fetchClaudeQuota(
  deps: Deps,
  account: AccountRecord,
  tokens: StoredTokens,
): Promise<ProviderQuota> {
  const body = await fetchQuotaDocument(deps, deps.config.upstream.anthropic + USAGE_PATH, {
    Authorization: `Bearer ${tokens.accessToken}`,
    "anthropic-beta": OAUTH_BETA,
    Accept: "application/json",
  }, "Claude usage");
  const windows: QuotaWindow[] = [];
  for (const [field, name] of WINDOWS) {
    const w = obj(body[field]);
    const utilization = num(w?.["utilization"]);
    if (!w || utilization === undefined) continue;
    // `utilization` is a percentage (0..100).
    windows.push(quotaWindow(name, utilization / 100, isoTime(w["resets_at"])));
  }
  return providerQuota(account.plan, windows);
}

/** Claude quota view: GET {anthropic-api}/api/oauth/usage (providers.md §3.4). */
import type { Deps } from "../../deps.ts";
import { ProviderAuthError } from "../shared/errors.ts";
import { callProvider, clampFraction, num, obj, readJsonObject, str } from "../shared/http.ts";
import type { AccountRecord } from "../../accounts/types.ts";
import type { ProviderQuota, QuotaWindow, StoredTokens } from "../account_types.ts";
import { OAUTH_BETA, USAGE_PATH } from "./constants.ts";

const WINDOWS: [field: string, name: string][] = [
  ["five_hour", "5h"],
  ["seven_day", "7d"],
  ["seven_day_opus", "7d_opus"],
  ["seven_day_sonnet", "7d_sonnet"],
];

export async function claudeQuota(
  deps: Deps,
  account: AccountRecord,
  tokens: StoredTokens,
): Promise<ProviderQuota> {
  const res = await callProvider(deps, deps.config.upstream.anthropic + USAGE_PATH, {
    headers: {
      Authorization: `Bearer ${tokens.accessToken}`,
      "anthropic-beta": OAUTH_BETA,
      Accept: "application/json",
    },
  });
  const body = await readJsonObject(res);
  if (!res.ok || !body) {
    throw new ProviderAuthError(
      res.status === 401,
      `http_${res.status}`,
      `Claude usage answered HTTP ${res.status}.`,
    );
  }
  const windows: QuotaWindow[] = [];
  for (const [field, name] of WINDOWS) {
    const w = obj(body[field]);
    const utilization = num(w?.["utilization"]);
    if (!w || utilization === undefined) continue;
    // `utilization` is a percentage (0..100).
    const window: QuotaWindow = { name, usedFraction: clampFraction(utilization / 100) };
    const reset = Date.parse(str(w["resets_at"]) ?? "");
    if (Number.isFinite(reset)) window.resetsAt = reset;
    windows.push(window);
  }
  const plan = account.plan;
  return plan ? { plan, windows } : { windows };
}

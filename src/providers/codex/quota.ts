/** Codex quota view: GET {chatgpt}/backend-api/wham/usage (providers.md §2.5). */
import type { Deps } from "../../deps.ts";
import { ProviderAuthError } from "../shared/errors.ts";
import { callProvider, clampFraction, num, obj, readJsonObject, str } from "../shared/http.ts";
import type { AccountRecord } from "../../accounts/types.ts";
import type { ProviderQuota, QuotaWindow, StoredTokens } from "../account_types.ts";
import { USAGE_PATH, USAGE_USER_AGENT } from "./constants.ts";

/** 18000 → "5h", 604800 → "7d". */
export function windowName(seconds: number | undefined, fallback: string): string {
  if (!seconds) return fallback;
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return `${Math.round(seconds / 60)}m`;
}

export async function codexQuota(
  deps: Deps,
  account: AccountRecord,
  tokens: StoredTokens,
): Promise<ProviderQuota> {
  const res = await callProvider(deps, deps.config.upstream.chatgpt + USAGE_PATH, {
    headers: {
      Authorization: `Bearer ${tokens.accessToken}`,
      "ChatGPT-Account-Id": account.externalId,
      "User-Agent": USAGE_USER_AGENT,
      Accept: "application/json",
    },
  });
  const body = await readJsonObject(res);
  if (!res.ok || !body) {
    throw new ProviderAuthError(
      res.status === 401,
      `http_${res.status}`,
      `Codex usage answered HTTP ${res.status}.`,
    );
  }
  const limits = obj(body["rate_limit"]);
  const windows: QuotaWindow[] = [];
  for (
    const [field, fallback] of [["primary_window", "primary"], ["secondary_window", "secondary"]]
  ) {
    const w = obj(limits?.[field as string]);
    if (!w) continue;
    const window: QuotaWindow = {
      name: windowName(num(w["limit_window_seconds"]), fallback as string),
      usedFraction: clampFraction((num(w["used_percent"]) ?? 0) / 100),
    };
    const resetAt = num(w["reset_at"]);
    if (resetAt !== undefined) window.resetsAt = resetAt * 1000;
    windows.push(window);
  }
  const plan = str(body["plan_type"]);
  return plan ? { plan, windows } : { windows };
}

/** Copilot quota view: GET {github-api}/copilot_internal/user (providers.md §1.4). */
import type { Deps } from "../../deps.ts";
import { ProviderAuthError } from "../shared/errors.ts";
import { callProvider, clampFraction, num, obj, readJsonObject, str } from "../shared/http.ts";
import type { AccountRecord } from "../../accounts/types.ts";
import type { ProviderQuota, QuotaWindow, StoredTokens } from "../account_types.ts";
import { QUOTA_API_VERSION, QUOTA_PATH, USER_AGENT } from "./constants.ts";
import { enterpriseDomainOf, githubApiOrigin } from "./hosts.ts";

export async function copilotQuota(
  deps: Deps,
  account: AccountRecord,
  tokens: StoredTokens,
): Promise<ProviderQuota> {
  const domain = enterpriseDomainOf(account.meta);
  const res = await callProvider(deps, githubApiOrigin(deps, domain) + QUOTA_PATH, {
    headers: {
      // This endpoint wants the GitHub token with the `token` scheme, not the Copilot token.
      Authorization: `token ${tokens.accessToken}`,
      "X-GitHub-Api-Version": QUOTA_API_VERSION,
      Accept: "application/json",
      "User-Agent": USER_AGENT,
    },
  });
  const body = await readJsonObject(res);
  if (!res.ok || !body) {
    throw new ProviderAuthError(
      res.status === 401,
      `github_${res.status}`,
      `GitHub quota answered HTTP ${res.status}.`,
    );
  }
  const windows: QuotaWindow[] = [];
  const premium = obj(obj(body["quota_snapshots"])?.["premium_interactions"]);
  if (premium) {
    const unlimited = premium["unlimited"] === true;
    const percentRemaining = num(premium["percent_remaining"]);
    const window: QuotaWindow = {
      name: "premium_interactions",
      usedFraction: unlimited || percentRemaining === undefined
        ? 0
        : clampFraction(1 - percentRemaining / 100),
    };
    const reset = Date.parse(str(body["quota_reset_date"]) ?? "");
    if (Number.isFinite(reset)) window.resetsAt = reset;
    windows.push(window);
  }
  const plan = str(body["copilot_plan"]);
  return plan ? { plan, windows } : { windows };
}

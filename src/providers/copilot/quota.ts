/** Copilot quota view: GET {github-api}/copilot_internal/user (docs/providers/copilot.md). */
import type { Deps } from "../../deps.ts";
import { num, obj, str } from "../common/http.ts";
import { fetchQuotaDocument, isoTime, providerQuota, quotaWindow } from "../common/quota.ts";
import type { AccountRecord } from "../../model/accounts.ts";
import type { StoredTokens } from "../account_types.ts";
import type { ProviderQuota, QuotaWindow } from "../../model/quota.ts";
import { QUOTA_API_VERSION, QUOTA_PATH, USER_AGENT } from "./constants.ts";
import { enterpriseDomainOf, githubApiOrigin } from "./hosts.ts";

/** Asks the provider's quota endpoint for the account's windows (the admin's quota view). */
export async function fetchCopilotQuota(
  deps: Deps,
  account: AccountRecord,
  tokens: StoredTokens,
): Promise<ProviderQuota> {
  const domain = enterpriseDomainOf(account.meta);
  const body = await fetchQuotaDocument(
    deps,
    githubApiOrigin(deps, domain) + QUOTA_PATH,
    {
      // This endpoint wants the GitHub token with the `token` scheme, not the Copilot token.
      Authorization: `token ${tokens.accessToken}`,
      "X-GitHub-Api-Version": QUOTA_API_VERSION,
      Accept: "application/json",
      "User-Agent": USER_AGENT,
    },
    "GitHub quota",
    "github",
  );
  const windows: QuotaWindow[] = [];
  const premium = obj(obj(body["quota_snapshots"])?.["premium_interactions"]);
  if (premium) {
    const unlimited = premium["unlimited"] === true;
    const percentRemaining = num(premium["percent_remaining"]);
    windows.push(quotaWindow(
      "premium_interactions",
      unlimited || percentRemaining === undefined ? 0 : 1 - percentRemaining / 100,
      isoTime(body["quota_reset_date"]),
    ));
  }
  return providerQuota(str(body["copilot_plan"]), windows);
}

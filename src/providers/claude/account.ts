/** The account side of the Claude adapter. */
import type { AccountAdapter } from "../account_types.ts";
import { bearerUpstream, expiringNeedsRefresh } from "../account_common.ts";
import { completeClaudeLogin, startClaudeLogin } from "./login.ts";
import { importClaude } from "./import.ts";
import { fetchClaudeQuota } from "./quota.ts";
import { refreshClaude } from "./refresh.ts";

export const claudeAccount: AccountAdapter = {
  provider: "claude",
  needsRefresh: expiringNeedsRefresh,
  refresh: refreshClaude,
  upstream: bearerUpstream,
  startLogin: startClaudeLogin,
  completeLogin: completeClaudeLogin,
  importCredentials: importClaude,
  fetchQuota: fetchClaudeQuota,
};

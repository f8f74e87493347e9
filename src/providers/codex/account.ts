/** The account side of the Codex adapter. */
import type { AccountAdapter } from "../account_types.ts";
import { completeCodexLogin, startCodexLogin } from "./login.ts";
import { importCodex } from "./import.ts";
import { fetchCodexQuota } from "./quota.ts";
import { bearerUpstream, expiringNeedsRefresh } from "../account_common.ts";
import { refreshCodex } from "./refresh.ts";

export const codexAccount: AccountAdapter = {
  provider: "codex",
  needsRefresh: expiringNeedsRefresh,
  refresh: refreshCodex,
  upstream: bearerUpstream,
  startLogin: startCodexLogin,
  completeLogin: completeCodexLogin,
  importCredentials: importCodex,
  fetchQuota: fetchCodexQuota,
};

/** The account side of the Copilot adapter. */
import type { AccountAdapter } from "../account_types.ts";
import { completeCopilotLogin, startCopilotLogin } from "./login.ts";
import { importCopilot } from "./import.ts";
import { fetchCopilotQuota } from "./quota.ts";
import {
  copilotNeedsRefresh,
  copilotUpstream,
  refreshCopilot,
  validateCopilot,
} from "./refresh.ts";

export const copilotAccount: AccountAdapter = {
  provider: "copilot",
  needsRefresh: copilotNeedsRefresh,
  refresh: refreshCopilot,
  upstream: copilotUpstream,
  startLogin: startCopilotLogin,
  completeLogin: completeCopilotLogin,
  importCredentials: importCopilot,
  fetchQuota: fetchCopilotQuota,
  validate: validateCopilot,
};

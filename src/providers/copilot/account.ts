// PLACEHOLDER: the accounts area (issue 3) replaces this file.
import type { AccountAdapter } from "../account_types.ts";
export const copilotAccount: AccountAdapter = {};

/**
 * The one list of provider adapters. Routes, the proxy engine and the
 * account services ask here for "the adapter of codex" instead of importing
 * each provider.
 */
import type { ProviderId } from "../model/providers.ts";
import type { AccountAdapter } from "./account_types.ts";
import type { ProxyAdapter } from "./proxy_types.ts";
import { copilotAccount } from "./copilot/account.ts";
import { codexAccount } from "./codex/account.ts";
import { claudeAccount } from "./claude/account.ts";
import { copilotProxy } from "./copilot/proxy.ts";
import { codexProxy } from "./codex/proxy.ts";
import { claudeProxy } from "./claude/proxy.ts";

interface ProviderAdapters {
  id: ProviderId;
  account: AccountAdapter;
  proxy: ProxyAdapter;
}

const ADAPTERS: Record<ProviderId, ProviderAdapters> = {
  copilot: { id: "copilot", account: copilotAccount, proxy: copilotProxy },
  codex: { id: "codex", account: codexAccount, proxy: codexProxy },
  claude: { id: "claude", account: claudeAccount, proxy: claudeProxy },
};

export function accountAdapter(id: ProviderId): AccountAdapter {
  return ADAPTERS[id].account;
}

export function proxyAdapter(id: ProviderId): ProxyAdapter {
  return ADAPTERS[id].proxy;
}

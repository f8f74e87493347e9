/** Account records: what every layer (providers, services, routes) knows of an account. */
import type { ProviderId } from "./providers.ts";

export type AccountStatus =
  | "active"
  | "expiring"
  | "expired"
  | "cooling_down"
  | "needs_login"
  | "disabled";

/** A provider account as stored (tokens live apart, sealed: keys.accountTokens). */
export interface AccountRecord {
  id: string;
  provider: ProviderId;
  /** Stable identity at the provider: GitHub user id, ChatGPT account id, Claude account uuid. */
  externalId: string;
  label: string;
  email?: string;
  plan?: string;
  enabled: boolean;
  /** Lower comes first when choosing accounts. */
  priority: number;
  /** When the current access token expires (ms); absent when it does not expire (Copilot gho_). */
  expiresAt?: number;
  lastRefreshAt?: number;
  lastRefreshError?: string;
  /** Set after a permanent refresh failure or a revoked token; cleared by a new login. */
  needsLogin?: boolean;
  lastUsedAt?: number;
  createdAt: number;
  updatedAt: number;
  /** Provider-specific, non-secret facts (enterprise domain, API base, organisation, ...). */
  meta: Record<string, string | number | boolean | undefined>;
  /** The outbound proxy everything this account sends goes through (src/accounts/egress.ts). */
  proxy?: AccountProxy;
}

/** An account's outbound proxy: the URL sealed (it may hold a password), and its redacted form. */
export interface AccountProxy {
  /** seal(url, "account_proxy:" + id) */
  sealed: string;
  /** redactProxyUrl(url): what admin answers, the page, logs and the audit show. */
  display: string;
}

/** What the proxy needs to call a backend as this account. */
export interface UpstreamCredentials {
  accessToken: string;
  /** Copilot: the API base (enterprise or exchanged-token `endpoints.api`); otherwise absent. */
  apiBase?: string;
}

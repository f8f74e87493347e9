/**
 * Every Deno KV key tuple Kleis uses, built here and nowhere else, so the
 * whole data model can be read in one place. Secondary indexes hold the
 * primary id, never a copy of the record.
 */
import type { ProviderId } from "../providers/ids.ts";

export const keys = {
  // --- API keys (src/keys) ---
  apiKey: (id: string) => ["api_keys", id] as const,
  apiKeysPrefix: () => ["api_keys"] as const,
  /** SHA-256 hex of a key secret → key id (current and, during a rotation grace, previous). */
  apiKeyByHash: (hash: string) => ["api_key_hashes", hash] as const,
  /** Discovery token → key id. */
  apiKeyByDiscoveryToken: (token: string) => ["api_key_discovery", token] as const,

  // --- Limits (src/keys/limits.ts) ---
  requestsInMinute: (keyId: string, minute: number) => ["limit_rpm", keyId, minute] as const,
  concurrentSlots: (keyId: string) => ["limit_concurrent", keyId] as const,
  tokensInDay: (keyId: string, day: string) => ["limit_tokens_day", keyId, day] as const,

  // --- Lockout of addresses sending bad credentials (src/auth/lockout.ts) ---
  lockout: (scope: "admin" | "key", address: string) => ["lockout", scope, address] as const,

  // --- Audit log (src/audit.ts); ids are time-ordered ---
  audit: (id: string) => ["audit", id] as const,
  auditPrefix: () => ["audit"] as const,

  // --- Accounts (src/accounts) ---
  account: (id: string) => ["accounts", id] as const,
  accountsPrefix: () => ["accounts"] as const,
  /** Sealed OAuth tokens, apart from the record so admin edits never race a refresh. */
  accountTokens: (id: string) => ["account_tokens", id] as const,
  accountByExternalId: (provider: ProviderId, externalId: string) =>
    ["account_external", provider, externalId] as const,
  primaryAccount: (provider: ProviderId) => ["account_primary", provider] as const,
  refreshLease: (accountId: string) => ["refresh_lease", accountId] as const,
  oauthFlow: (flowId: string) => ["oauth_flows", flowId] as const,
  /** Last quota headroom seen in backend headers, per account. */
  accountQuota: (accountId: string) => ["account_quota", accountId] as const,

  // --- Proxy (src/proxy) ---
  /** Cooldown of an account; model "*" means every model. */
  cooldown: (accountId: string, model: string) => ["cooldowns", accountId, model] as const,
  cooldownsOf: (accountId: string) => ["cooldowns", accountId] as const,
  /** Session affinity: hashed client session → account id. */
  sessionAffinity: (provider: ProviderId, sessionHash: string) =>
    ["session_affinity", provider, sessionHash] as const,

  // --- Registry (src/registry) ---
  modelsDevCache: () => ["registry", "models_dev"] as const,
  copilotModelsCache: (accountId: string) => ["registry", "copilot_models", accountId] as const,

  // --- Usage (src/usage) ---
  usageBucketsPrefix: () => ["usage_buckets"] as const,
  usageEventSeen: (eventId: string) => ["usage_event_seen", eventId] as const,

  // --- Health ---
  healthProbe: () => ["meta", "health_probe"] as const,
} as const;

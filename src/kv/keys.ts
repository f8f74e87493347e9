/**
 * Every Deno KV key tuple Kleis uses, built here and nowhere else, so the
 * whole data model can be read in one place. Secondary indexes hold the
 * primary id, never a copy of the record.
 */
import type { ProviderId } from "../model/providers.ts";

export const keys = {
  // --- API keys (src/keys) ---
  apiKey: (id: string) => ["api_keys", id] as const,
  apiKeysPrefix: () => ["api_keys"] as const,
  /** SHA-256 hex of a key secret → key id (current and, during a rotation grace, previous). */
  apiKeyByHash: (hash: string) => ["api_key_hashes", hash] as const,
  /** Discovery token → key id. */
  apiKeyByDiscoveryToken: (token: string) => ["api_key_discovery", token] as const,

  // --- Request capture (src/capture); capture ids are time-ordered ---
  /** One captured request of a key: metadata, headers, body sizes. */
  capture: (keyId: string, id: string) => ["captures", keyId, id] as const,
  capturesOf: (keyId: string) => ["captures", keyId] as const,
  /** A ≤ 60 000-byte part of a captured body ("request" or "answer"), redacted UTF-8. */
  captureBody: (keyId: string, id: string, part: "request" | "answer", index: number) =>
    ["capture_bodies", keyId, id, part, index] as const,
  captureBodiesOf: (keyId: string, id?: string) =>
    (id === undefined ? ["capture_bodies", keyId] : ["capture_bodies", keyId, id]) as Deno.KvKey,
  /** The key's captures oldest first ({id, part counts, expiresAt}), for the count cap. */
  captureIndex: (keyId: string) => ["capture_index", keyId] as const,

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
  /** How the proxy picks among the provider's accounts (absent: fill-first). */
  selectionStrategy: (provider: ProviderId) => ["selection_strategy", provider] as const,

  // --- Proxy (src/proxy) ---
  /** Cooldown of an account; model "*" means every model. */
  cooldown: (accountId: string, model: string) => ["cooldowns", accountId, model] as const,
  cooldownsOf: (accountId: string) => ["cooldowns", accountId] as const,
  /** Every cooldown of every account (the proxy caches this list briefly). */
  cooldownsAll: () => ["cooldowns"] as const,
  /** Session affinity: hashed client session → account id. */
  sessionAffinity: (provider: ProviderId, sessionHash: string) =>
    ["session_affinity", provider, sessionHash] as const,

  // --- Registry (src/registry) ---
  /** Pointer to the current cached models.dev copy: {version, fetchedAt, chunks, bytes, sha256}. */
  modelsDevCache: () => ["registry", "models_dev"] as const,
  /** One ≤ 60 KiB part of a gzip-compressed models.dev copy (the whole is ~1 MB of JSON). */
  modelsDevChunk: (version: string, index: number) =>
    ["registry_models_dev_chunks", version, index] as const,
  modelsDevChunksPrefix: () => ["registry_models_dev_chunks"] as const,
  /** Last models.dev fetch attempt and its error, for the admin and for backoff. */
  modelsDevStatus: () => ["registry", "models_dev_status"] as const,
  copilotModelsCache: (accountId: string) => ["registry", "copilot_models", accountId] as const,
  /** An admin-defined model alias → {name, provider, model, createdAt, updatedAt}. */
  modelAlias: (name: string) => ["model_aliases", name] as const,
  modelAliasesPrefix: () => ["model_aliases"] as const,

  // --- Usage (src/usage) ---
  usageBucketsPrefix: () => ["usage_buckets"] as const,
  usageEventSeen: (eventId: string) => ["usage_event_seen", eventId] as const,
  /**
   * A usage bucket: time first so a range listing reads a window in order.
   * Dimensions absent from an event are "" (keys cannot hold null). Buckets
   * written before client and userAgent were kept end after endpoint.
   */
  usageMinute: (
    minute: number,
    keyId: string,
    accountId: string,
    provider: string,
    model: string,
    endpoint: string,
    client = "",
    userAgent = "",
  ) =>
    [
      "usage_buckets",
      minute,
      keyId,
      accountId,
      provider,
      model,
      endpoint,
      client,
      userAgent,
    ] as const,
  /** The same counters rolled up per hour, so 30-day windows read 60x fewer entries. */
  usageHour: (
    hour: number,
    keyId: string,
    accountId: string,
    provider: string,
    model: string,
    endpoint: string,
    client = "",
    userAgent = "",
  ) =>
    ["usage_hours", hour, keyId, accountId, provider, model, endpoint, client, userAgent] as const,
  usageHoursPrefix: () => ["usage_hours"] as const,
  /** Where the queue parks a usage batch it gave up delivering; the retention job re-ingests it. */
  usageUndelivered: (batchId: string) => ["usage_undelivered", batchId] as const,
  usageUndeliveredPrefix: () => ["usage_undelivered"] as const,
  /** Last request time (KvU64 ms, written with max()) of an API key or an account. */
  lastUsed: (kind: "key" | "account", id: string) => ["usage_last_used", kind, id] as const,
  /** Prefix of keys.tokensInDay for the retention sweep. */
  tokensInDayPrefix: () => ["limit_tokens_day"] as const,

  // --- Scheduled backups and restore on start (src/backup) ---
  /** Outcome of the last scheduled backup runs, for the admin. */
  backupStatus: () => ["backup", "status"] as const,
  /** Held while one instance writes a backup: {owner, until}. */
  backupLease: () => ["backup", "lease"] as const,
  /** Held while one instance restores on start; left behind by a crash, it marks an unfinished restore. */
  restoreLease: () => ["backup", "restore_lease"] as const,

  // --- Alerts (src/alerts) ---
  /** The webhook settings: URL, sealed signing secret, events, thresholds. */
  alertSettings: () => ["alert_settings"] as const,
  /**
   * The period last alerted for an event and subject, moved forward in the
   * commit that raises an alert: one alert per period however many
   * instances see the event.
   */
  alertDedup: (type: string, subject: string) => ["alert_dedup", type, subject] as const,
  /** One alert and its delivery state: pending (with attempts so far), sent or failed. */
  alertDelivery: (alertId: string) => ["alert_delivery", alertId] as const,

  // --- Health ---
  healthProbe: () => ["meta", "health_probe"] as const,
} as const;

/** API key records: shared by the key service, auth, usage, registry and proxy. */
import type { ProviderId } from "./providers.ts";

export interface KeyLimits {
  requestsPerMinute?: number;
  tokensPerDay?: number;
  concurrent?: number;
}

/** An API key as stored. The secret itself is never stored: only its SHA-256. */
export interface ApiKeyRecord {
  id: string;
  label: string;
  /** SHA-256 hex of the current secret. */
  hash: string;
  /** First 12 characters of the secret, for recognising it in lists. */
  prefix: string;
  /** Allowed providers; absent means all. */
  providers?: ProviderId[];
  /** Allowed models: exact ids or `*` globs; absent means all. */
  models?: string[];
  /** One pinned account per provider. */
  accounts?: Partial<Record<ProviderId, string>>;
  limits?: KeyLimits;
  expiresAt?: number;
  revokedAt?: number;
  createdAt: number;
  updatedAt: number;
  lastUsedAt?: number;
  /** Capability in the per-key discovery URL (/api/<token>/api.json): lists models, grants nothing. */
  discoveryToken: string;
  /** During a rotation grace: the old secret's hash and when it stops working. */
  previousHash?: string;
  previousValidUntil?: number;
  /** Request capture switched on for this key until `until` (src/capture; off when absent or past). */
  capture?: { startedAt: number; until: number };
}

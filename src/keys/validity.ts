/**
 * Whether a key may be used now, and whether a presented secret's hash is
 * one of its valid secrets. Decided from stored timestamps and the caller's
 * clock, never from KV expiry (docs/architecture.md#kv-keys).
 */
import type { ApiKeyRecord } from "../model/keys.ts";

/** Not revoked and not expired. */
export function isKeyUsable(key: ApiKeyRecord, now: number): boolean {
  if (key.revokedAt !== undefined) return false;
  return key.expiresAt === undefined || now < key.expiresAt;
}

/** The current secret, or the previous one while its rotation grace lasts. */
export function hashMatchesKey(key: ApiKeyRecord, hash: string, now: number): boolean {
  if (hash === key.hash) return true;
  return key.previousHash === hash && key.previousValidUntil !== undefined &&
    now < key.previousValidUntil;
}

export type KeyState = "active" | "revoked" | "expired";

export function keyState(key: ApiKeyRecord, now: number): KeyState {
  if (key.revokedAt !== undefined) return "revoked";
  return isKeyUsable(key, now) ? "active" : "expired";
}

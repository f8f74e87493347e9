/** What the admin API shows of a key: never the secret, its hash or the previous hash. */
import type { ApiKeyRecord } from "../model/keys.ts";
import { type KeyState, keyState } from "./validity.ts";

export interface ApiKeyView {
  id: string;
  label: string;
  prefix: string;
  status: KeyState;
  providers?: ApiKeyRecord["providers"];
  models?: string[];
  accounts?: ApiKeyRecord["accounts"];
  limits?: ApiKeyRecord["limits"];
  expiresAt?: number;
  revokedAt?: number;
  createdAt: number;
  updatedAt: number;
  lastUsedAt?: number;
  /** Until when the secret before the last rotation still works. */
  previousValidUntil?: number;
  /** While request capture is on for the key. */
  capture?: { startedAt: number; until: number };
  discoveryUrl: string;
}

export function toKeyView(
  key: ApiKeyRecord,
  options: { baseUrl: string; now: number; lastUsedAt?: number | undefined },
): ApiKeyView {
  const view: ApiKeyView = {
    id: key.id,
    label: key.label,
    prefix: key.prefix,
    status: keyState(key, options.now),
    createdAt: key.createdAt,
    updatedAt: key.updatedAt,
    discoveryUrl: `${options.baseUrl}/api/${key.discoveryToken}`,
  };
  if (key.providers) view.providers = key.providers;
  if (key.models) view.models = key.models;
  if (key.accounts) view.accounts = key.accounts;
  if (key.limits) view.limits = key.limits;
  if (key.expiresAt !== undefined) view.expiresAt = key.expiresAt;
  if (key.revokedAt !== undefined) view.revokedAt = key.revokedAt;
  const lastUsedAt = options.lastUsedAt ?? key.lastUsedAt;
  if (lastUsedAt !== undefined) view.lastUsedAt = lastUsedAt;
  if (key.previousValidUntil !== undefined && key.previousValidUntil > options.now) {
    view.previousValidUntil = key.previousValidUntil;
  }
  if (key.capture !== undefined && key.capture.until > options.now) view.capture = key.capture;
  return view;
}

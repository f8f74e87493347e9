/**
 * API key lifecycle: create, update, revoke, rotate, delete. Every change
 * writes the record, its indexes and its audit entry in one atomic commit;
 * updates are versionstamp-checked read-modify-writes with bounded retries.
 */
import type { Deps } from "../deps.ts";
import { type AuditInput, auditRecord } from "../audit.ts";
import { randomBase62, randomId } from "../crypto.ts";
import { badRequest, conflict, KleisError, notFound } from "../errors.ts";
import { keys } from "../kv/keys.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import type { CreateKeyInput, UpdateKeyInput } from "./validation.ts";
import { displayPrefix, hashKeySecret, newKeySecret } from "./secret.ts";
import { checkPinnedAccounts } from "./account_pins.ts";

const MAX_ATTEMPTS = 8;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CreatedKey {
  key: ApiKeyRecord;
  /** Shown once; only its hash is stored. */
  secret: string;
}

function contention(): KleisError {
  return new KleisError(503, "busy", "The key is being changed by another request; try again.");
}

function assertFuture(deps: Deps, expiresAt: number | null | undefined): void {
  if (typeof expiresAt === "number" && expiresAt <= deps.now()) {
    throw badRequest("invalid_request", 'Invalid "expiresAt": must be in the future.');
  }
}

export async function createApiKey(deps: Deps, input: CreateKeyInput): Promise<CreatedKey> {
  assertFuture(deps, input.expiresAt);
  await checkPinnedAccounts(deps, input.accounts, input.providers);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const now = deps.now();
    const secret = newKeySecret(deps.random);
    const key: ApiKeyRecord = {
      id: randomId(deps.random),
      label: input.label,
      hash: hashKeySecret(secret),
      prefix: displayPrefix(secret),
      createdAt: now,
      updatedAt: now,
      discoveryToken: randomBase62(32, deps.random),
      ...(input.providers ? { providers: input.providers } : {}),
      ...(input.models ? { models: input.models } : {}),
      ...(input.accounts ? { accounts: input.accounts } : {}),
      ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt } : {}),
      ...(input.limits ? { limits: input.limits } : {}),
    };
    const audit = auditRecord(deps, {
      action: "key.created",
      actor: "admin",
      target: key.id,
      details: { label: key.label, prefix: key.prefix },
    });
    // Uniqueness of id, hash and discovery token: a collision (practically
    // impossible at these sizes) retries with fresh randomness.
    const result = await deps.kv.atomic()
      .check({ key: keys.apiKey(key.id), versionstamp: null })
      .check({ key: keys.apiKeyByHash(key.hash), versionstamp: null })
      .check({ key: keys.apiKeyByDiscoveryToken(key.discoveryToken), versionstamp: null })
      .set(keys.apiKey(key.id), key)
      .set(keys.apiKeyByHash(key.hash), key.id)
      .set(keys.apiKeyByDiscoveryToken(key.discoveryToken), key.id)
      .set(audit.key, audit.value, { expireIn: audit.expireIn })
      .commit();
    if (result.ok) return { key, secret };
  }
  throw contention();
}

/** What a change plans; refusing is done by throwing from the planner. */
export type Change = {
  next: ApiKeyRecord;
  /** Undefined when nothing changes (nothing is written, e.g. revoking twice). */
  audit: AuditInput | undefined;
  /** Index updates committed with the record. */
  extra?: (op: Deno.AtomicOperation) => void;
};

/** Read-modify-write of one key with a versionstamp check, retried a bounded number of times. */
export async function changeKey(
  deps: Deps,
  id: string,
  change: (current: ApiKeyRecord, now: number) => Change | Promise<Change>,
): Promise<{ key: ApiKeyRecord }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const entry = await deps.kv.get<ApiKeyRecord>(keys.apiKey(id));
    if (!entry.value) throw notFound(`The API key ${id}`);
    const planned = await change(entry.value, deps.now());
    if (!planned.audit) return { key: planned.next };
    const op = deps.kv.atomic().check(entry).set(keys.apiKey(id), planned.next);
    planned.extra?.(op);
    const audit = auditRecord(deps, planned.audit);
    op.set(audit.key, audit.value, { expireIn: audit.expireIn });
    if ((await op.commit()).ok) return { key: planned.next };
    await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
  }
  throw contention();
}

export function assertNotRevoked(key: ApiKeyRecord): void {
  if (key.revokedAt !== undefined) {
    throw conflict("key_revoked", `The API key ${key.id} is revoked and cannot be changed.`);
  }
}

export async function updateApiKey(
  deps: Deps,
  id: string,
  input: UpdateKeyInput,
): Promise<ApiKeyRecord> {
  assertFuture(deps, input.expiresAt);
  const { key } = await changeKey(deps, id, async (current, now) => {
    assertNotRevoked(current);
    const next: ApiKeyRecord = { ...current, updatedAt: now };
    if (input.label !== undefined) next.label = input.label;
    const optional = ["providers", "models", "accounts", "expiresAt", "limits"] as const;
    for (const field of optional) {
      const value = input[field];
      if (value === null) delete next[field];
      else if (value !== undefined) (next as unknown as Record<string, unknown>)[field] = value;
    }
    if (input.accounts !== undefined || input.providers !== undefined) {
      await checkPinnedAccounts(deps, next.accounts, next.providers);
    }
    const changed = Object.keys(input).filter((k) =>
      input[k as keyof UpdateKeyInput] !== undefined
    );
    return {
      next,
      audit: {
        action: "key.updated",
        actor: "admin",
        target: id,
        details: { fields: changed.join(",") },
      },
    };
  });
  return key;
}

/** Revokes at once: every instance reads the record on each request. Idempotent. */
export async function revokeApiKey(deps: Deps, id: string): Promise<ApiKeyRecord> {
  const { key } = await changeKey(deps, id, (current, now) => {
    if (current.revokedAt !== undefined) return { next: current, audit: undefined };
    return {
      next: { ...current, revokedAt: now, updatedAt: now },
      audit: {
        action: "key.revoked",
        actor: "admin",
        target: id,
        details: { label: current.label },
      },
    };
  });
  return key;
}

/**
 * A new secret. With a grace period the old secret keeps working until
 * previousValidUntil (checked against the clock on each request); its index
 * entry is kept with an expireIn that only cleans up.
 */
export async function rotateApiKey(
  deps: Deps,
  id: string,
  graceSeconds = 0,
): Promise<CreatedKey> {
  const secret = newKeySecret(deps.random);
  const hash = hashKeySecret(secret);
  const { key } = await changeKey(deps, id, (current, now) => {
    assertNotRevoked(current);
    const next: ApiKeyRecord = {
      ...current,
      hash,
      prefix: displayPrefix(secret),
      updatedAt: now,
    };
    delete next.previousHash;
    delete next.previousValidUntil;
    if (graceSeconds > 0) {
      next.previousHash = current.hash;
      next.previousValidUntil = now + graceSeconds * 1000;
    }
    return {
      next,
      audit: {
        action: "key.rotated",
        actor: "admin",
        target: id,
        details: { graceSeconds, prefix: next.prefix },
      },
      extra: (op) => {
        op.check({ key: keys.apiKeyByHash(hash), versionstamp: null });
        op.set(keys.apiKeyByHash(hash), id);
        // A grace still running from an earlier rotation ends now.
        if (current.previousHash) op.delete(keys.apiKeyByHash(current.previousHash));
        if (graceSeconds > 0) {
          op.set(keys.apiKeyByHash(current.hash), id, { expireIn: graceSeconds * 1000 + DAY_MS });
        } else {
          op.delete(keys.apiKeyByHash(current.hash));
        }
      },
    };
  });
  return { key, secret };
}

/** Deletes a revoked key with its indexes; an active key must be revoked first (409). */
export async function deleteApiKey(deps: Deps, id: string): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const entry = await deps.kv.get<ApiKeyRecord>(keys.apiKey(id));
    const key = entry.value;
    if (!key) throw notFound(`The API key ${id}`);
    if (key.revokedAt === undefined) {
      throw conflict("key_not_revoked", "Only a revoked key can be deleted; revoke it first.");
    }
    const audit = auditRecord(deps, {
      action: "key.deleted",
      actor: "admin",
      target: id,
      details: { label: key.label },
    });
    const op = deps.kv.atomic().check(entry)
      .delete(keys.apiKey(id))
      .delete(keys.apiKeyByHash(key.hash))
      .delete(keys.apiKeyByDiscoveryToken(key.discoveryToken))
      .delete(keys.concurrentSlots(id))
      .set(audit.key, audit.value, { expireIn: audit.expireIn });
    if (key.previousHash) op.delete(keys.apiKeyByHash(key.previousHash));
    if ((await op.commit()).ok) return;
  }
  throw contention();
}

/**
 * GET /admin/export and POST /admin/restore. The backup holds every account
 * (record and its sealed tokens, as stored) and every API key record (which
 * holds only hashes), and the whole JSON is sealed again with the encryption
 * key (context "backup"): it opens only where KLEIS_ENCRYPTION_KEY is the
 * same. A restore updates or creates the ids it holds and removes nothing
 * else; each record and its indexes are written in one atomic commit.
 * Stored tokens newer than the backup's are kept (an older copy of a
 * rotating refresh token would already be spent).
 */
import { commit } from "./kv_commit.ts";
import type { Deps } from "../deps.ts";
import { seal, unseal } from "../crypto.ts";
import { badRequest } from "../errors.ts";
import { keys } from "../kv/keys.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import { isProviderId, PROVIDER_IDS, type ProviderId } from "../model/providers.ts";
import { appendAudit } from "../audit.ts";
import { ensurePrimary, listAccounts, type TokenEnvelope } from "./repository.ts";
import type { AccountRecord } from "../model/accounts.ts";

export const BACKUP_FORMAT = "kleis-backup";
export const BACKUP_VERSION = 1;
const CONTEXT = "backup";

interface BackupPayload {
  createdAt: number;
  accounts: { record: AccountRecord; tokens: TokenEnvelope | null }[];
  primaries: Partial<Record<ProviderId, string>>;
  apiKeys: ApiKeyRecord[];
}

export interface BackupFile {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdAt: number;
  accounts: number;
  apiKeys: number;
  sealed: string;
}

export async function exportBackup(deps: Deps, actor = "admin"): Promise<BackupFile> {
  const file = await buildBackupFile(deps);
  await appendAudit(deps, {
    action: "backup.exported",
    actor,
    details: { accounts: file.accounts, apiKeys: file.apiKeys },
  });
  return file;
}

/** The sealed backup of the current state (no audit: scheduled backups record their own outcome). */
export async function buildBackupFile(deps: Deps): Promise<BackupFile> {
  const accounts: BackupPayload["accounts"] = [];
  for (const record of await listAccounts(deps.kv)) {
    const tokens = (await deps.kv.get<TokenEnvelope>(keys.accountTokens(record.id))).value;
    accounts.push({ record, tokens });
  }
  const primaries: BackupPayload["primaries"] = {};
  for (const provider of PROVIDER_IDS) {
    const id = (await deps.kv.get<string>(keys.primaryAccount(provider))).value;
    if (id) primaries[provider] = id;
  }
  const apiKeys: ApiKeyRecord[] = [];
  for await (const e of deps.kv.list<ApiKeyRecord>({ prefix: keys.apiKeysPrefix() })) {
    apiKeys.push(e.value);
  }
  const createdAt = deps.now();
  const payload: BackupPayload = { createdAt, accounts, primaries, apiKeys };
  const file: BackupFile = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    createdAt,
    accounts: accounts.length,
    apiKeys: apiKeys.length,
    sealed: await seal(deps.sealingKey, payload, CONTEXT, deps.random),
  };
  return file;
}

export interface RestoreSummary {
  accounts: number;
  apiKeys: number;
  skipped: string[];
}

async function openBackup(deps: Deps, body: unknown): Promise<BackupPayload> {
  const file = body && typeof body === "object" ? body as Partial<BackupFile> : undefined;
  if (file?.format !== BACKUP_FORMAT || typeof file.sealed !== "string") {
    throw badRequest("invalid_backup", "The body is not a Kleis backup (format, sealed).");
  }
  if (file.version !== BACKUP_VERSION) {
    throw badRequest("invalid_backup", `Backup version ${file.version} is not supported.`);
  }
  try {
    const payload = await unseal<BackupPayload>(deps.sealingKey, file.sealed, CONTEXT);
    if (!Array.isArray(payload.accounts) || !Array.isArray(payload.apiKeys)) throw new Error();
    return payload;
  } catch {
    throw badRequest(
      "invalid_backup",
      "The backup cannot be opened: it was made with another KLEIS_ENCRYPTION_KEY or is damaged.",
    );
  }
}

async function restoreAccount(
  deps: Deps,
  item: BackupPayload["accounts"][number],
): Promise<string | undefined> {
  const { record, tokens } = item;
  if (!isProviderId(record.provider) || typeof record.id !== "string") {
    return `account with an invalid provider or id skipped`;
  }
  for (let attempt = 0; attempt < 8; attempt++) {
    const [existing, index, stored] = await deps.kv.getMany<[AccountRecord, string, TokenEnvelope]>(
      [
        keys.account(record.id),
        keys.accountByExternalId(record.provider, record.externalId),
        keys.accountTokens(record.id),
      ],
    );
    if (index.value && index.value !== record.id) {
      return `account ${record.id} skipped: account ${index.value} already holds the same ${record.provider} identity`;
    }
    const op = deps.kv.atomic().check(existing).check(index).check(stored)
      .set(keys.account(record.id), record)
      .set(keys.accountByExternalId(record.provider, record.externalId), record.id);
    const old = existing.value;
    if (old && (old.externalId !== record.externalId || old.provider !== record.provider)) {
      op.delete(keys.accountByExternalId(old.provider, old.externalId));
    }
    if (tokens && (!stored.value || tokens.updatedAt > stored.value.updatedAt)) {
      op.set(keys.accountTokens(record.id), {
        ...tokens,
        generation: Math.max(tokens.generation, (stored.value?.generation ?? 0) + 1),
      });
    }
    if ((await commit(deps, op)).ok) return undefined;
  }
  return `account ${record.id} skipped: it kept changing during the restore`;
}

async function restoreApiKey(deps: Deps, key: ApiKeyRecord): Promise<string | undefined> {
  if (typeof key.id !== "string" || typeof key.hash !== "string") {
    return "API key with an invalid id or hash skipped";
  }
  for (let attempt = 0; attempt < 8; attempt++) {
    const existing = await deps.kv.get<ApiKeyRecord>(keys.apiKey(key.id));
    const hashEntry = await deps.kv.get<string>(keys.apiKeyByHash(key.hash));
    const discovery = await deps.kv.get<string>(keys.apiKeyByDiscoveryToken(key.discoveryToken));
    if (
      (hashEntry.value && hashEntry.value !== key.id) ||
      (discovery.value && discovery.value !== key.id)
    ) {
      return `API key ${key.id} skipped: its hash or discovery token belongs to another key`;
    }
    const op = deps.kv.atomic().check(existing).check(hashEntry).check(discovery)
      .set(keys.apiKey(key.id), key)
      .set(keys.apiKeyByHash(key.hash), key.id)
      .set(keys.apiKeyByDiscoveryToken(key.discoveryToken), key.id);
    if (key.previousHash && (key.previousValidUntil ?? 0) > deps.now()) {
      op.set(keys.apiKeyByHash(key.previousHash), key.id);
    }
    // Index entries of this key's current state that the backup's state does not have.
    const old = existing.value;
    if (old) {
      const keep = new Set([key.hash, key.previousHash]);
      for (const h of [old.hash, old.previousHash]) {
        if (h && !keep.has(h)) op.delete(keys.apiKeyByHash(h));
      }
      if (old.discoveryToken !== key.discoveryToken) {
        op.delete(keys.apiKeyByDiscoveryToken(old.discoveryToken));
      }
    }
    if ((await commit(deps, op)).ok) return undefined;
  }
  return `API key ${key.id} skipped: it kept changing during the restore`;
}

export async function restoreBackup(
  deps: Deps,
  body: unknown,
  actor = "admin",
  /** Where the backup came from, for the audit (a target description; no secret). */
  source?: string,
): Promise<RestoreSummary> {
  const payload = await openBackup(deps, body);
  const summary: RestoreSummary = { accounts: 0, apiKeys: 0, skipped: [] };
  for (const item of payload.accounts) {
    const skipped = await restoreAccount(deps, item);
    if (skipped) summary.skipped.push(skipped);
    else summary.accounts++;
  }
  for (const key of payload.apiKeys) {
    const skipped = await restoreApiKey(deps, key);
    if (skipped) summary.skipped.push(skipped);
    else summary.apiKeys++;
  }
  for (const provider of PROVIDER_IDS) {
    await ensurePrimary(deps, provider, payload.primaries?.[provider]);
  }
  await appendAudit(deps, {
    action: "backup.restored",
    actor,
    details: {
      accounts: summary.accounts,
      apiKeys: summary.apiKeys,
      skipped: summary.skipped.length,
      ...(source === undefined ? {} : { source }),
    },
  });
  return summary;
}

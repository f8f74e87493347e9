/**
 * GET /admin/export and POST /admin/restore. The backup holds every account
 * (record and its sealed tokens, as stored) and every API key record (which
 * holds only hashes), and the whole JSON is sealed again with the encryption
 * key (context "backup"): it opens only where KLEIS_ENCRYPTION_KEY is the
 * same. A restore updates or creates the ids it holds and removes nothing
 * else; each record and its indexes are written in one atomic commit.
 * Stored tokens newer than the backup's are kept (an older copy of a
 * rotating refresh token would already be spent).
 *
 * The admin's settings travel too, as the KV entries they are: model aliases,
 * the selection strategy per provider and the alert settings (whose signing
 * secret stays sealed as stored). A restore writes each of them as the backup
 * has it. Backups made before settings were carried have none and restore
 * none.
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
  settings?: SettingEntry[];
}

/** One admin setting as stored in KV. */
interface SettingEntry {
  key: Deno.KvKey;
  value: unknown;
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
  const settings = await collectSettings(deps.kv);
  const createdAt = deps.now();
  const payload: BackupPayload = { createdAt, accounts, primaries, apiKeys, settings };
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
  settings: number;
  skipped: string[];
}

async function collectSettings(kv: Deno.Kv): Promise<SettingEntry[]> {
  const out: SettingEntry[] = [];
  for await (const e of kv.list({ prefix: keys.modelAliasesPrefix() })) {
    out.push({ key: e.key, value: e.value });
  }
  const single = [...PROVIDER_IDS.map((p) => keys.selectionStrategy(p)), keys.alertSettings()];
  for (const e of await kv.getMany(single)) {
    if (e.value !== null) out.push({ key: e.key, value: e.value });
  }
  return out;
}

/** The key when it is one of the settings a backup carries, else undefined. */
function settingKey(key: unknown): Deno.KvKey | undefined {
  if (!Array.isArray(key)) return undefined;
  const [kind, name, ...rest] = key;
  if (rest.length > 0) return undefined;
  if (kind === keys.modelAliasesPrefix()[0] && typeof name === "string") {
    return keys.modelAlias(name);
  }
  if (kind === keys.selectionStrategy("copilot")[0] && isProviderId(name)) {
    return keys.selectionStrategy(name);
  }
  if (kind === keys.alertSettings()[0] && name === undefined) return keys.alertSettings();
  return undefined;
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
  const summary: RestoreSummary = { accounts: 0, apiKeys: 0, settings: 0, skipped: [] };
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
  for (const entry of Array.isArray(payload.settings) ? payload.settings : []) {
    const key = settingKey(entry?.key);
    if (!key || entry.value === null || typeof entry.value !== "object") {
      summary.skipped.push("a setting of an unknown kind skipped");
      continue;
    }
    await deps.kv.set(key, entry.value);
    summary.settings++;
  }
  await appendAudit(deps, {
    action: "backup.restored",
    actor,
    details: {
      accounts: summary.accounts,
      apiKeys: summary.apiKeys,
      settings: summary.settings,
      skipped: summary.skipped.length,
      ...(source === undefined ? {} : { source }),
    },
  });
  return summary;
}

/**
 * The account store. A record lives at keys.account(id); its tokens, sealed,
 * apart at keys.accountTokens(id) (so an admin edit never races a refresh);
 * keys.accountByExternalId makes the provider identity unique, and
 * keys.primaryAccount names each provider's primary. Every write that can
 * change which account is primary recomputes it in the same atomic commit,
 * so exactly one enabled account is primary while any enabled one exists.
 */
import { commit } from "./kv_commit.ts";
import type { Deps } from "../deps.ts";
import { randomBase62, seal, unseal } from "../crypto.ts";
import { keys } from "../kv/keys.ts";
import type { ProviderId } from "../model/providers.ts";
import type { LoginResult, StoredTokens } from "../providers/account_types.ts";
import { type AuditInput, auditRecord } from "../audit.ts";
import { conflict, KleisError, notFound } from "../errors.ts";
import { clearCooldowns } from "./cooldowns.ts";
import { dropEgress, sealAccountProxy } from "./egress.ts";
import type { AccountRecord } from "../model/accounts.ts";

const MAX_ATTEMPTS = 20;

/** What is stored at keys.accountTokens(id). The generation grows with every token write. */
export interface TokenEnvelope {
  generation: number;
  /** seal(tokens, "account:" + id) */
  sealed: string;
  updatedAt: number;
}

export interface LoadedTokens {
  tokens: StoredTokens;
  generation: number;
  updatedAt: number;
  versionstamp: string;
}

export function byPriority(a: AccountRecord, b: AccountRecord): number {
  return a.priority - b.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1);
}

export async function listAccounts(kv: Deno.Kv, provider?: ProviderId): Promise<AccountRecord[]> {
  const out: AccountRecord[] = [];
  for await (const entry of kv.list<AccountRecord>({ prefix: keys.accountsPrefix() })) {
    if (!provider || entry.value.provider === provider) out.push(entry.value);
  }
  return out.sort(byPriority);
}

export async function getAccount(kv: Deno.Kv, id: string): Promise<AccountRecord | undefined> {
  return (await kv.get<AccountRecord>(keys.account(id))).value ?? undefined;
}

export async function requireAccount(kv: Deno.Kv, id: string): Promise<AccountRecord> {
  const account = await getAccount(kv, id);
  if (!account) throw notFound(`Account ${id}`);
  return account;
}

export async function getPrimaryAccountId(
  kv: Deno.Kv,
  provider: ProviderId,
): Promise<string | undefined> {
  return (await kv.get<string>(keys.primaryAccount(provider))).value ?? undefined;
}

export function tokensContext(accountId: string): string {
  return `account:${accountId}`;
}

export async function sealTokens(
  deps: Pick<Deps, "sealingKey" | "random">,
  accountId: string,
  tokens: StoredTokens,
): Promise<string> {
  return await seal(deps.sealingKey, tokens, tokensContext(accountId), deps.random);
}

export async function loadTokens(
  deps: Pick<Deps, "kv" | "sealingKey">,
  accountId: string,
): Promise<LoadedTokens | undefined> {
  const entry = await deps.kv.get<TokenEnvelope>(keys.accountTokens(accountId));
  if (!entry.value || !entry.versionstamp) return undefined;
  const tokens = await unseal<StoredTokens>(
    deps.sealingKey,
    entry.value.sealed,
    tokensContext(accountId),
  );
  return {
    tokens,
    generation: entry.value.generation,
    updatedAt: entry.value.updatedAt,
    versionstamp: entry.versionstamp,
  };
}

/** The primary an atomic commit should leave, given the provider's accounts after the change. */
function desiredPrimary(after: AccountRecord[], current: string | null): string | null {
  const enabled = after.filter((a) => a.enabled).sort(byPriority);
  if (current && enabled.some((a) => a.id === current)) return current;
  return enabled[0]?.id ?? null;
}

/**
 * Adds the primary-key check and, when needed, its change to `op`; returns
 * the audit entry for a primary change (the caller adds it to the commit).
 */
async function planPrimary(
  deps: Deps,
  op: Deno.AtomicOperation,
  provider: ProviderId,
  change: { id: string; next: AccountRecord | null },
  actor: string,
): Promise<string | null> {
  const primary = await deps.kv.get<string>(keys.primaryAccount(provider));
  const others = (await listAccounts(deps.kv, provider)).filter((a) => a.id !== change.id);
  const after = change.next ? [...others, change.next] : others;
  const want = desiredPrimary(after, primary.value);
  op.check(primary);
  if (want === primary.value) return want;
  if (want) op.set(keys.primaryAccount(provider), want);
  else op.delete(keys.primaryAccount(provider));
  if (want) addAudit(deps, op, { action: "account.primary", actor, target: want });
  return want;
}

function addAudit(deps: Deps, op: Deno.AtomicOperation, input: AuditInput): void {
  const { key, value, expireIn } = auditRecord(deps, input);
  op.set(key, value, { expireIn });
}

async function nextPriority(kv: Deno.Kv, provider: ProviderId): Promise<number> {
  const accounts = await listAccounts(kv, provider);
  return accounts.reduce((max, a) => Math.max(max, a.priority + 1), 0);
}

export interface SavedLogin {
  account: AccountRecord;
  created: boolean;
}

/**
 * Creates the account of a login or import, or updates the account with the
 * same provider identity (new tokens, needsLogin cleared). The index, the
 * record, the sealed tokens and the primary change in one atomic commit.
 */
export async function saveLogin(
  deps: Deps,
  provider: ProviderId,
  login: LoginResult,
  options: {
    label?: string | undefined;
    actor?: string;
    source: string;
    /** Joins the commit (e.g. consuming the login flow, so it completes exactly once). */
    also?: (op: Deno.AtomicOperation) => void;
  },
): Promise<SavedLogin> {
  const actor = options.actor ?? "admin";
  const { identity, tokens } = login;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const now = deps.now();
    const indexEntry = await deps.kv.get<string>(
      keys.accountByExternalId(provider, identity.externalId),
    );
    const existingEntry = indexEntry.value
      ? await deps.kv.get<AccountRecord>(keys.account(indexEntry.value))
      : null;
    const existing = existingEntry?.value ?? undefined;
    const id = existing?.id ?? `acct_${randomBase62(20, deps.random)}`;
    const tokensEntry = await deps.kv.get<TokenEnvelope>(keys.accountTokens(id));

    const record: AccountRecord = {
      id,
      provider,
      externalId: identity.externalId,
      label: options.label ?? existing?.label ?? identity.label,
      enabled: existing?.enabled ?? true,
      priority: existing?.priority ?? await nextPriority(deps.kv, provider),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      lastRefreshAt: now,
      meta: { ...existing?.meta, ...identity.meta },
    };
    const email = identity.email ?? existing?.email;
    const plan = identity.plan ?? existing?.plan;
    if (email !== undefined) record.email = email;
    if (plan !== undefined) record.plan = plan;
    if (tokens.expiresAt !== undefined) record.expiresAt = tokens.expiresAt;
    if (existing?.lastUsedAt !== undefined) record.lastUsedAt = existing.lastUsedAt;
    if (existing?.proxy !== undefined) record.proxy = existing.proxy;

    const envelope: TokenEnvelope = {
      generation: (tokensEntry.value?.generation ?? 0) + 1,
      sealed: await sealTokens(deps, id, tokens),
      updatedAt: now,
    };
    const op = deps.kv.atomic()
      .check(indexEntry)
      .check(tokensEntry)
      .set(keys.account(id), record)
      .set(keys.accountTokens(id), envelope)
      .set(keys.accountByExternalId(provider, identity.externalId), id);
    if (existingEntry) op.check(existingEntry);
    else op.check({ key: keys.account(id), versionstamp: null });
    await planPrimary(deps, op, provider, { id, next: record }, actor);
    addAudit(deps, op, {
      action: existing ? "account.updated" : "account.added",
      actor,
      target: id,
      details: { provider, source: options.source },
    });
    options.also?.(op);
    if ((await commit(deps, op)).ok) return { account: record, created: !existing };
  }
  throw conflict("write_conflict", "The account changed during the update; try again.");
}

export interface AccountPatch {
  label?: string | undefined;
  enabled?: boolean | undefined;
  priority?: number | undefined;
  /** An outbound proxy URL (checked by the caller: proxyUrlProblem), or null to go direct. */
  proxy?: string | null | undefined;
}

/** Admin edits; disabling the primary promotes the next enabled account by priority. */
export async function patchAccount(
  deps: Deps,
  id: string,
  patch: AccountPatch,
  actor = "admin",
): Promise<AccountRecord> {
  // Sealed once; the audit and the record keep only the redacted form.
  const proxy = typeof patch.proxy === "string"
    ? await sealAccountProxy(deps, id, patch.proxy)
    : patch.proxy;
  const details = Object.fromEntries(
    Object.entries({ ...patch, proxy: proxy === null ? "none" : proxy?.display })
      .filter(([, v]) => v !== undefined),
  ) as Record<string, string | number | boolean>;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const entry = await deps.kv.get<AccountRecord>(keys.account(id));
    if (!entry.value) throw notFound(`Account ${id}`);
    const next: AccountRecord = { ...entry.value, updatedAt: deps.now() };
    if (patch.label !== undefined) next.label = patch.label;
    if (patch.enabled !== undefined) next.enabled = patch.enabled;
    if (patch.priority !== undefined) next.priority = patch.priority;
    if (proxy) next.proxy = proxy;
    if (proxy === null) delete next.proxy;
    const op = deps.kv.atomic().check(entry).set(keys.account(id), next);
    await planPrimary(deps, op, next.provider, { id, next }, actor);
    addAudit(deps, op, { action: "account.updated", actor, target: id, details });
    if ((await commit(deps, op)).ok) {
      if (proxy !== undefined) dropEgress(deps, id);
      return next;
    }
  }
  throw conflict("write_conflict", "The account changed during the update; try again.");
}

/** Removes the account, its tokens, index entries and lease; promotes a new primary. */
export async function removeAccount(deps: Deps, id: string, actor = "admin"): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const entry = await deps.kv.get<AccountRecord>(keys.account(id));
    if (!entry.value) throw notFound(`Account ${id}`);
    const account = entry.value;
    const index = await deps.kv.get<string>(
      keys.accountByExternalId(account.provider, account.externalId),
    );
    const op = deps.kv.atomic()
      .check(entry)
      .check(index)
      .delete(keys.account(id))
      .delete(keys.accountTokens(id))
      .delete(keys.refreshLease(id))
      .delete(keys.accountQuota(id));
    if (index.value === id) op.delete(index.key);
    await planPrimary(deps, op, account.provider, { id, next: null }, actor);
    addAudit(deps, op, {
      action: "account.removed",
      actor,
      target: id,
      details: { provider: account.provider, label: account.label },
    });
    if ((await commit(deps, op)).ok) {
      // Cooldowns are the proxy's cleanup-by-expiry records; drop them too so nothing dangles.
      await clearCooldowns(deps.kv, id);
      dropEgress(deps, id);
      return;
    }
  }
  throw conflict("write_conflict", "The account changed during the removal; try again.");
}

export async function makePrimary(deps: Deps, id: string, actor = "admin"): Promise<AccountRecord> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const entry = await deps.kv.get<AccountRecord>(keys.account(id));
    if (!entry.value) throw notFound(`Account ${id}`);
    if (!entry.value.enabled) {
      throw new KleisError(409, "account_disabled", "A disabled account cannot be primary.");
    }
    const primary = await deps.kv.get<string>(keys.primaryAccount(entry.value.provider));
    if (primary.value === id) return entry.value;
    const op = deps.kv.atomic()
      .check(entry)
      .check(primary)
      .set(keys.primaryAccount(entry.value.provider), id);
    addAudit(deps, op, { action: "account.primary", actor, target: id });
    if ((await commit(deps, op)).ok) return entry.value;
  }
  throw conflict("write_conflict", "The primary account changed meanwhile; try again.");
}

/** Read-modify-write of a record's bookkeeping fields (refresh results, validation). */
export async function updateRecord(
  deps: Pick<Deps, "kv" | "runtime">,
  id: string,
  change: (record: AccountRecord) => AccountRecord,
  extra?: (op: Deno.AtomicOperation) => void,
): Promise<AccountRecord | undefined> {
  const { kv } = deps;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const entry = await kv.get<AccountRecord>(keys.account(id));
    if (!entry.value) return undefined;
    const next = change(entry.value);
    const op = kv.atomic().check(entry).set(keys.account(id), next);
    extra?.(op);
    if ((await commit(deps, op)).ok) return next;
  }
  throw conflict("write_conflict", "The account changed during the update; try again.");
}

/**
 * Makes the provider's primary valid again (after a restore): keeps a valid
 * primary, else `preferred` if enabled, else the first enabled by priority.
 */
export async function ensurePrimary(
  deps: Deps,
  provider: ProviderId,
  preferred?: string,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const primary = await deps.kv.get<string>(keys.primaryAccount(provider));
    const accounts = await listAccounts(deps.kv, provider);
    const enabled = accounts.filter((a) => a.enabled);
    let want: string | null = null;
    if (primary.value && enabled.some((a) => a.id === primary.value)) want = primary.value;
    else if (preferred && enabled.some((a) => a.id === preferred)) want = preferred;
    else want = enabled[0]?.id ?? null;
    if (want === primary.value) return;
    const op = deps.kv.atomic().check(primary);
    if (want) {
      op.set(keys.primaryAccount(provider), want);
      addAudit(deps, op, { action: "account.primary", actor: "system", target: want });
    } else op.delete(keys.primaryAccount(provider));
    if ((await commit(deps, op)).ok) return;
  }
}

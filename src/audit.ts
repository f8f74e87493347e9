/**
 * The audit log: who did what, newest first. Entries are keyed by a
 * time-ordered id, so a reverse prefix listing is newest-first and a KV
 * cursor pages through it. Entries expire after the retention period.
 */
import type { Deps } from "./deps.ts";
import { timeOrderedId } from "./crypto.ts";
import { keys } from "./kv/keys.ts";

export type AuditAction =
  | "key.created"
  | "key.updated"
  | "key.revoked"
  | "key.rotated"
  | "key.deleted"
  | "key.capture_started"
  | "key.capture_stopped"
  | "key.captures_deleted"
  | "admin.login_failed"
  | "admin.lockout"
  | "key.auth_lockout"
  | "account.added"
  | "account.updated"
  | "account.removed"
  | "account.primary"
  | "account.refreshed"
  | "account.refresh_failed"
  | "account.needs_login"
  | "selection.updated"
  | "backup.exported"
  | "backup.restored"
  | "backup.failed"
  | "alerts.updated"
  | "alert.sent"
  | "alert.failed"
  | "alias.set"
  | "alias.deleted";

export interface AuditEntry {
  id: string;
  at: number;
  action: AuditAction;
  /** "admin", "system", or "key:<id>". */
  actor: string;
  /** The id of what was acted on (key id, account id, address). */
  target?: string;
  address?: string;
  details?: Record<string, string | number | boolean | null>;
}

export type AuditInput = Omit<AuditEntry, "id" | "at">;

const AUDIT_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;

/** The entry and its KV key, for callers that write it in their own atomic commit. */
export function auditRecord(deps: Pick<Deps, "now" | "random">, input: AuditInput) {
  const at = deps.now();
  const entry: AuditEntry = { id: timeOrderedId(at, deps.random), at, ...input };
  return { key: keys.audit(entry.id), value: entry, expireIn: AUDIT_RETENTION_MS };
}

/** Appends an entry. Audit failures are logged, never thrown: they must not fail the action. */
export async function appendAudit(deps: Deps, input: AuditInput): Promise<void> {
  const { key, value, expireIn } = auditRecord(deps, input);
  try {
    await deps.kv.set(key, value, { expireIn });
  } catch (error) {
    deps.log.error("Could not write an audit entry.", { action: input.action, error });
  }
}

export async function listAudit(
  kv: Deno.Kv,
  options: { limit: number; cursor?: string },
): Promise<{ entries: AuditEntry[]; cursor: string | null }> {
  const iter = kv.list<AuditEntry>({ prefix: keys.auditPrefix() }, {
    reverse: true,
    limit: options.limit,
    ...(options.cursor ? { cursor: options.cursor } : {}),
  });
  const entries: AuditEntry[] = [];
  for await (const item of iter) entries.push(item.value);
  return { entries, cursor: entries.length === options.limit && iter.cursor ? iter.cursor : null };
}

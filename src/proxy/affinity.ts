/**
 * Session affinity (docs/architecture.md#a-proxied-request-step-by-step, step 7):
 * the requests of one client session stay
 * on one account while it is healthy, because opaque per-account state
 * (thinking signatures, encrypted reasoning, cached prompts) only works
 * there. The session is hashed with the key id, so two keys never share an
 * entry. Stored at keys.sessionAffinity; written only when the account of a
 * session changes (or the entry is old), cached briefly in memory.
 */
import type { Deps } from "../deps.ts";
import { sha256Hex } from "../crypto.ts";
import { keys } from "../kv/keys.ts";
import type { ProviderId } from "../model/providers.ts";

export interface AffinityRecord {
  accountId: string;
  updatedAt: number;
}

/** KV cleans an entry up this long after its last write. */
export const AFFINITY_EXPIRE_MS = 7 * 86_400_000;
/** An entry older than this is rewritten (one write a day per live session) so it never lapses. */
export const AFFINITY_REFRESH_MS = 86_400_000;
const CACHE_TTL_MS = 5_000;
const MAX_CACHED = 10_000;

export function affinityHash(keyId: string, session: string): Promise<string> {
  return sha256Hex(`${keyId}:${session}`);
}

interface Cached {
  record: AffinityRecord | null;
  at: number;
}

export class AffinityStore {
  #cache = new Map<string, Cached>();

  constructor(private readonly deps: Pick<Deps, "kv" | "now">) {}

  async get(provider: ProviderId, hash: string): Promise<AffinityRecord | null> {
    const id = `${provider}:${hash}`;
    const now = this.deps.now();
    const cached = this.#cache.get(id);
    if (cached && now - cached.at < CACHE_TTL_MS && now >= cached.at) return cached.record;
    const entry = await this.deps.kv.get<AffinityRecord>(keys.sessionAffinity(provider, hash));
    this.#remember(id, { record: entry.value, at: now });
    return entry.value;
  }

  /** Records that the session now uses `accountId`; writes only on a change (or an old entry). */
  async set(
    provider: ProviderId,
    hash: string,
    accountId: string,
    previous: AffinityRecord | null,
  ): Promise<boolean> {
    const now = this.deps.now();
    if (previous?.accountId === accountId && now - previous.updatedAt < AFFINITY_REFRESH_MS) {
      return false;
    }
    const record: AffinityRecord = { accountId, updatedAt: now };
    this.#remember(`${provider}:${hash}`, { record, at: now });
    await this.deps.kv.set(keys.sessionAffinity(provider, hash), record, {
      expireIn: AFFINITY_EXPIRE_MS,
    });
    return true;
  }

  #remember(id: string, value: Cached): void {
    if (this.#cache.size >= MAX_CACHED && !this.#cache.has(id)) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(id, value);
  }
}

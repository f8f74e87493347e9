/**
 * Cooldowns: an account (model "*") or one model of an account is not used
 * until a reset time the backend named. They live in KV so every instance
 * sees them; expiry is judged from the stored `until` and the injected clock,
 * `expireIn` only cleans up.
 *
 * The request path reads them through CooldownCache: one KV list of all
 * cooldowns, kept for at most CACHE_TTL_MS, so a busy instance reads KV about
 * once a second instead of once per request, and another instance's new
 * cooldown is seen within that second. Cooldowns written here update the
 * cache at once.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import type { Cooldown, CooldownRecord } from "../model/cooldowns.ts";

export const CACHE_TTL_MS = 1_000;
/** KV rejects expireIn beyond this; a longer cooldown is still judged by `until`. */
const MAX_EXPIRE_IN_MS = 30 * 86_400_000;

/**
 * The cooldowns of one account (for the admin's account view). Given `now`,
 * only those still running; without it, every stored one (the caller judges).
 */
export async function getCooldowns(
  kv: Deno.Kv,
  accountId: string,
  now?: number,
): Promise<{ model: string; until: number; reason: string }[]> {
  const out: { model: string; until: number; reason: string }[] = [];
  for await (const entry of kv.list<CooldownRecord>({ prefix: keys.cooldownsOf(accountId) })) {
    const model = entry.key[2];
    if (typeof model === "string" && (now === undefined || entry.value.until > now)) {
      out.push({ model, until: entry.value.until, reason: entry.value.reason });
    }
  }
  return out;
}

/** Writes a cooldown unless a longer one is already stored (one KV write). */
export async function setCooldown(deps: Pick<Deps, "kv" | "now">, cooldown: Cooldown) {
  const key = keys.cooldown(cooldown.accountId, cooldown.model);
  const record: CooldownRecord = {
    until: cooldown.until,
    reason: cooldown.reason,
    status: cooldown.status,
  };
  const expireIn = Math.min(MAX_EXPIRE_IN_MS, Math.max(1000, cooldown.until - deps.now()));
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await deps.kv.get<CooldownRecord>(key);
    if (current.value && current.value.until >= cooldown.until) return;
    const result = await deps.kv.atomic().check(current).set(key, record, { expireIn }).commit();
    if (result.ok) return;
  }
}

/** Removes every cooldown of an account (it was removed). */
export async function clearCooldowns(kv: Deno.Kv, accountId: string): Promise<void> {
  for await (const entry of kv.list({ prefix: keys.cooldownsOf(accountId) })) {
    await kv.delete(entry.key);
  }
}

/** The active cooldown that stops `model` on an account, the latest if several. */
export function blockingCooldown(
  list: readonly Cooldown[],
  accountId: string,
  model: string,
  now: number,
): Cooldown | undefined {
  let found: Cooldown | undefined;
  for (const c of list) {
    if (c.accountId !== accountId || c.until <= now) continue;
    if (c.model !== "*" && c.model !== model) continue;
    if (!found || c.until > found.until) found = c;
  }
  return found;
}

/** Every cooldown of every account, cached briefly per instance. */
export class CooldownCache {
  #list: Cooldown[] = [];
  #loadedAt = -Infinity;
  #loading: Promise<Cooldown[]> | undefined;

  constructor(private readonly deps: Pick<Deps, "kv" | "now">, private ttlMs = CACHE_TTL_MS) {}

  async all(): Promise<readonly Cooldown[]> {
    const now = this.deps.now();
    if (now - this.#loadedAt < this.ttlMs && now >= this.#loadedAt) return this.#list;
    // Concurrent requests share one read.
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return await this.#loading;
  }

  async #load(): Promise<Cooldown[]> {
    const now = this.deps.now();
    const list: Cooldown[] = [];
    for await (
      const entry of this.deps.kv.list<CooldownRecord>({ prefix: keys.cooldownsAll() })
    ) {
      const [, accountId, model] = entry.key;
      if (typeof accountId !== "string" || typeof model !== "string") continue;
      if (entry.value.until <= now) continue;
      list.push({ accountId, model, ...entry.value });
    }
    this.#list = list;
    this.#loadedAt = now;
    return list;
  }

  /** Writes a cooldown to KV and to this instance's cache. */
  async set(cooldown: Cooldown): Promise<void> {
    const same = (c: Cooldown) => c.accountId === cooldown.accountId && c.model === cooldown.model;
    if (!this.#list.some((c) => same(c) && c.until >= cooldown.until)) {
      this.#list = [...this.#list.filter((c) => !same(c)), cooldown];
    }
    await setCooldown(this.deps, cooldown);
  }
}

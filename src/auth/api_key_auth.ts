/**
 * API key authentication in front of the proxy prefixes. Per request: hash
 * the presented secret, read the key record from KV, check this address's
 * lockout, decide, then admit the request against the key's limits
 * (src/keys/limits.ts).
 *
 * The record is read from KV for every request (a read that began after the
 * request arrived, shared by the requests of one key that arrived together:
 * fresh_key_reads.ts), so a revocation, expiry or rotation made on any
 * instance takes effect at once everywhere. What is cached in
 * memory: the hash → id mapping, which never changes meaning (a secret's
 * hash belongs to one key forever; the record decides whether it is still
 * valid), and what was last read of an address's lockout entry, re-read
 * with the record (one getMany) once LOCKOUT_RECHECK_MS has passed.
 *
 * A secret whose hash this instance has not seen on a key may be a guess:
 * such requests from one address are judged one at a time (attempt_gate.ts),
 * and a known secret from that address waits for those queued before it, so
 * a parallel burst of guesses gets no more judged than the lockout allows.
 */
import type { Context, MiddlewareHandler, Next } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { Deps } from "../deps.ts";
import { invalidApiKey, KleisError } from "../errors.ts";
import { clientAddress } from "../client_address.ts";
import { keys } from "../kv/keys.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import { hashKeySecret } from "../keys/secret.ts";
import { hashMatchesKey, isKeyUsable } from "../keys/validity.ts";
import { FreshKeyReads } from "./fresh_key_reads.ts";
import { attemptGate } from "./attempt_gate.ts";
import { runtimeSlot } from "../runtime.ts";
import { acquireKeyLimits, type KeyLease } from "../keys/limits.ts";
import { recordRefusal } from "../usage/record.ts";
import { bearerToken } from "./admin_auth.ts";
import {
  assertNotLockedOut,
  type LockoutEntry,
  recordAuthFailure,
  throwLockedOut,
} from "./lockout.ts";

const MAX_CACHED = 10_000;
/**
 * How long this instance trusts what it last read of an address's key
 * lockout. A lockout started on another instance applies here within this
 * time; one started here applies at once (the entry is dropped on every
 * failure).
 */
export const LOCKOUT_RECHECK_MS = 1000;

interface SeenLockout {
  checkedAt: number;
  entry: LockoutEntry | null;
}

/** What the middleware remembers in this app (see the file comment). */
const KEY_AUTH_CACHES = runtimeSlot("auth.keyCaches", () => ({
  idByHash: new Map<string, string>(),
  lockouts: new Map<string, SeenLockout>(),
  freshReads: undefined as FreshKeyReads | undefined,
}));

/** The key from `Authorization: Bearer` (any scheme case) or `x-api-key`. */
export function presentedApiKey(headers: Headers): string | undefined {
  return bearerToken(headers.get("authorization") ?? undefined) ??
    (headers.get("x-api-key")?.trim() || undefined);
}

/**
 * Sets c.var.apiKey, admits the request against the key's limits and sets
 * c.var.keyLease (the request's admission; routes release it early), or
 * throws 401 (missing, unknown, revoked or expired key: one message) or 429
 * (limits, or this address locked out after repeated unknown keys).
 */
export function apiKeyAuth(deps: Deps): MiddlewareHandler<AppEnv> {
  const caches = deps.runtime.get(KEY_AUTH_CACHES);
  const { idByHash, lockouts } = caches;
  const freshReads = caches.freshReads ??= new FreshKeyReads(deps.kv);
  const gate = attemptGate(deps);

  return async (c, next) => {
    const address = clientAddress(c, deps.config.trustProxy);
    const secret = presentedApiKey(c.req.raw.headers);
    const hash = secret === undefined ? undefined : hashKeySecret(secret);
    const gateKey = `key:${address}`;
    if (hash === undefined || idByHash.has(hash)) {
      const queued = gate.idle(gateKey);
      if (queued) await queued;
      return await authenticate(c, next, address, secret, hash, () => {});
    }
    const release = await gate.acquire(gateKey);
    try {
      return await authenticate(c, next, address, secret, hash, release);
    } finally {
      release();
    }
  };

  /** `judged` is called once the secret is found valid (the gate is released before the route runs). */
  async function authenticate(
    c: Context<AppEnv>,
    next: Next,
    address: string,
    secret: string | undefined,
    hash: string | undefined,
    judged: () => void,
  ): Promise<Response | void> {
    const { kv } = deps;
    const lockoutKey = keys.lockout("key", address);
    const seen = lockouts.get(address);
    // Reading the lockout entry with the record costs a second lookup per
    // request (a measured third of the middleware's KV time); an address
    // seen unlocked within LOCKOUT_RECHECK_MS is trusted to still be.
    const fresh = seen !== undefined && deps.now() - seen.checkedAt < LOCKOUT_RECHECK_MS;

    let record: ApiKeyRecord | null = null;
    let lockout: LockoutEntry | null = fresh ? seen.entry : null;
    if (hash === undefined) {
      if (!fresh) lockout = (await kv.get<LockoutEntry>(lockoutKey)).value;
    } else {
      const cachedId = idByHash.get(hash);
      if (cachedId !== undefined && fresh) {
        record = await freshReads.read(cachedId);
      } else if (cachedId !== undefined) {
        const [recordEntry, lockoutEntry] = await kv.getMany<[ApiKeyRecord, LockoutEntry]>([
          keys.apiKey(cachedId),
          lockoutKey,
        ]);
        record = recordEntry.value;
        lockout = lockoutEntry.value;
      } else {
        const [idEntry, lockoutEntry] = await kv.getMany<[string, LockoutEntry]>([
          keys.apiKeyByHash(hash),
          lockoutKey,
        ]);
        lockout = lockoutEntry.value;
        if (idEntry.value !== null) {
          record = (await kv.get<ApiKeyRecord>(keys.apiKey(idEntry.value))).value;
          if (record) remember(idByHash, hash, record.id);
        }
      }
    }

    const now = deps.now();
    if (!fresh) remember(lockouts, address, { checkedAt: now, entry: lockout });
    // Refusals of a known key are counted in its usage (docs/api.md#usage-and-audit:
    // 401 with a known key id, 429); unknown secrets have no key to count them for.
    const knownKeyId = record && hash !== undefined && hashMatchesKey(record, hash, now)
      ? record.id
      : undefined;
    const refused = (error: unknown): never => {
      if (knownKeyId !== undefined && error instanceof KleisError) {
        void recordRefusal(deps, {
          requestId: c.get("requestId"),
          keyId: knownKeyId,
          endpoint: c.req.path,
          status: error.status,
          client: address,
          userAgent: c.req.header("user-agent") ?? null,
        });
      }
      throw error;
    };

    // A locked-out address is refused even with a valid key.
    try {
      assertNotLockedOut("key", lockout, now);
    } catch (error) {
      refused(error);
    }
    if (secret === undefined || hash === undefined) throw invalidApiKey();
    if (!record || knownKeyId === undefined) {
      // Only unknown secrets count as guesses; a revoked or expired key is
      // a configuration problem of a legitimate client, not a probe.
      lockouts.delete(address);
      const retryAfterMs = await recordAuthFailure(deps, "key", address);
      if (retryAfterMs > 0) throwLockedOut("key", retryAfterMs);
      throw invalidApiKey();
    }
    judged();
    if (!isKeyUsable(record, now)) refused(invalidApiKey());

    c.set("apiKey", record);
    let lease: KeyLease;
    try {
      lease = await acquireKeyLimits(deps, record);
    } catch (error) {
      return refused(error);
    }
    c.set("keyLease", lease);
    if (record.limits?.concurrent === undefined) return await next();

    try {
      await next();
    } catch (error) {
      void lease.release();
      throw error;
    }
    releaseWhenSent(c, lease);
  }
}

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  cache.delete(key);
  if (cache.size >= MAX_CACHED) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(key, value);
}

/**
 * A concurrency slot is held until the response body has been sent (or the
 * client went away), not just until the handler returned a streaming
 * Response. Under Deno.serve the handler info (Hono's `c.env`) has a
 * `completed` promise that settles exactly then, so no stream is wrapped
 * around the body; elsewhere (app.request in tests) the body is wrapped.
 */
export function releaseWhenSent(c: { res: Response; env: unknown }, lease: KeyLease): void {
  // `completed` first: reading `res.body` of a Response made from a string
  // turns that body into a ReadableStream, and Deno.serve then pipes it
  // through a stream resource instead of writing the bytes at once (about
  // 10 % of the CPU of a JSON request).
  const completed = (c.env as { completed?: unknown } | undefined)?.completed;
  if (completed instanceof Promise) {
    const release = () => void lease.release();
    completed.then(release, release);
    return;
  }
  const res = c.res;
  if (!res.body) {
    void lease.release();
    return;
  }
  const reader = res.body.getReader();
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      void lease.release();
    }
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (chunk.done) {
          finish();
          controller.close();
        } else {
          controller.enqueue(chunk.value);
        }
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    async cancel(reason) {
      finish();
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  c.res = new Response(body, res);
}

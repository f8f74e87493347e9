/**
 * API key authentication in front of the proxy prefixes. Per request: hash
 * the presented secret, read the key record and this address's lockout
 * entry in one KV read, decide, then admit the request against the key's
 * limits (src/keys/limits.ts).
 *
 * The record is read from KV on every request, so a revocation, expiry or
 * rotation made on any instance takes effect at once everywhere. Only the
 * hash → id mapping is cached: it never changes meaning (a secret's hash
 * belongs to one key forever), and the record decides whether it is still
 * valid.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { Deps } from "../deps.ts";
import { invalidApiKey } from "../errors.ts";
import { clientAddress } from "../client_address.ts";
import { keys } from "../kv/keys.ts";
import type { ApiKeyRecord } from "../keys/types.ts";
import { hashKeySecret } from "../keys/secret.ts";
import { hashMatchesKey, isKeyUsable } from "../keys/validity.ts";
import { acquireKeyLimits, type KeyLease } from "../keys/limits.ts";
import { bearerToken } from "./admin_auth.ts";
import {
  assertNotLockedOut,
  type LockoutEntry,
  recordAuthFailure,
  throwLockedOut,
} from "./lockout.ts";

const MAX_CACHED_HASHES = 10_000;

/** The key from `Authorization: Bearer` (any scheme case) or `x-api-key`. */
export function presentedApiKey(headers: Headers): string | undefined {
  return bearerToken(headers.get("authorization") ?? undefined) ??
    (headers.get("x-api-key")?.trim() || undefined);
}

/**
 * Sets c.var.apiKey and admits the request against the key's limits, or
 * throws 401 (missing, unknown, revoked or expired key: one message) or 429
 * (limits, or this address locked out after repeated unknown keys).
 */
export function apiKeyAuth(deps: Deps): MiddlewareHandler<AppEnv> {
  const idByHash = new Map<string, string>();

  return async (c, next) => {
    const { kv } = deps;
    const address = clientAddress(c, deps.config.trustProxy);
    const lockoutKey = keys.lockout("key", address);
    const secret = presentedApiKey(c.req.raw.headers);

    let record: ApiKeyRecord | null = null;
    let lockout: LockoutEntry | null;
    let hash: string | undefined;
    if (secret === undefined) {
      lockout = (await kv.get<LockoutEntry>(lockoutKey)).value;
    } else {
      hash = hashKeySecret(secret);
      const cachedId = idByHash.get(hash);
      if (cachedId !== undefined) {
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
    // A locked-out address is refused even with a valid key.
    assertNotLockedOut("key", lockout, now);
    if (secret === undefined || hash === undefined) throw invalidApiKey();
    if (!record || !hashMatchesKey(record, hash, now)) {
      // Only unknown secrets count as guesses; a revoked or expired key is
      // a configuration problem of a legitimate client, not a probe.
      if (await recordAuthFailure(deps, "key", address)) throwLockedOut("key");
      throw invalidApiKey();
    }
    if (!isKeyUsable(record, now)) throw invalidApiKey();

    c.set("apiKey", record);
    const lease = await acquireKeyLimits(deps, record);
    if (record.limits?.concurrent === undefined) return await next();

    try {
      await next();
    } catch (error) {
      void lease.release();
      throw error;
    }
    releaseWhenSent(c, lease);
  };
}

function remember(cache: Map<string, string>, hash: string, id: string): void {
  if (cache.size >= MAX_CACHED_HASHES) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(hash, id);
}

/**
 * A concurrency slot is held until the response body has been sent (or the
 * client went away), not just until the handler returned a streaming
 * Response.
 */
function releaseWhenSent(c: { res: Response }, lease: KeyLease): void {
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

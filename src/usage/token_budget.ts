/**
 * The tokensPerDay key limit. A key's tokens for a UTC day are the sum of
 * all four billed counters (input, output, cache read, cache write), as the
 * consumer records them at keys.tokensInDay; the check therefore lags
 * ingestion by a moment (one queue hop), so the request that crosses the
 * limit completes and the next one is refused.
 */
import type { Deps } from "../deps.ts";
import { tooManyRequests } from "../errors.ts";
import { keys } from "../kv/keys.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import { DAY_MS, utcDay } from "./buckets.ts";

/** Tokens a key has used in the UTC day containing `at`. */
export async function tokensUsedOn(kv: Deno.Kv, keyId: string, at: number): Promise<number> {
  const entry = await kv.get<Deno.KvU64>(keys.tokensInDay(keyId, utcDay(at)));
  return entry.value instanceof Deno.KvU64 ? Number(entry.value.value) : 0;
}

/** Throws 429 (Retry-After until midnight UTC) once a key's tokens today reach tokensPerDay. */
export async function checkTokenBudget(
  deps: Pick<Deps, "kv" | "now">,
  key: Pick<ApiKeyRecord, "id" | "limits">,
): Promise<void> {
  const limit = key.limits?.tokensPerDay;
  if (limit === undefined) return;
  const now = deps.now();
  const used = await tokensUsedOn(deps.kv, key.id, now);
  if (used < limit) return;
  const midnight = (Math.floor(now / DAY_MS) + 1) * DAY_MS;
  throw tooManyRequests(
    "token_limit_exceeded",
    `This API key has used its ${limit} tokens for today; it resets at midnight UTC.`,
    (midnight - now) / 1000,
  );
}

import type { Deps } from "../deps.ts";
import { runtimeSlot } from "../runtime.ts";

/** Successful commits this app made through `commit`. */
const COMMITS = runtimeSlot("accounts.commits", () => ({ count: 0 }));

/**
 * Successful commits made through `commit` by this app. Every account
 * store write goes through it, so the request-path account cache
 * (account_cache.ts) drops its copy when this moves.
 */
export function localCommits(deps: Pick<Deps, "runtime">): number {
  return deps.runtime.get(COMMITS).count;
}

/**
 * Commits an atomic operation and counts the successes. (A local KV file's
 * "database is locked" is retried below this, by src/kv/open.ts.)
 */
export async function commit(
  deps: Pick<Deps, "runtime">,
  op: Deno.AtomicOperation,
): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
  const result = await op.commit();
  if (result.ok) deps.runtime.get(COMMITS).count++;
  return result;
}

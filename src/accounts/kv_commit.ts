let committed = 0;

/**
 * Successful commits made through `commit` in this process. Every account
 * store write goes through it, so the request-path account cache
 * (account_cache.ts) drops its copy when this moves.
 */
export function localCommits(): number {
  return committed;
}

/**
 * Commits an atomic operation and counts the successes. (A local KV file's
 * "database is locked" is retried below this, by src/kv/open.ts.)
 */
export async function commit(
  op: Deno.AtomicOperation,
): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
  const result = await op.commit();
  if (result.ok) committed++;
  return result;
}

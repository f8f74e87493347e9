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
 * Commits an atomic operation, treating SQLite's "database is locked" (two
 * processes on one local KV file racing for the write lock) as a failed
 * check: every caller already re-reads and retries a failed commit.
 */
export async function commit(
  op: Deno.AtomicOperation,
): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
  try {
    const result = await op.commit();
    if (result.ok) committed++;
    return result;
  } catch (error) {
    if (error instanceof Error && /database is locked|busy/i.test(error.message)) {
      await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 8));
      return { ok: false };
    }
    throw error;
  }
}

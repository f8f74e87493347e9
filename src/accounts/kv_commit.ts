/**
 * Commits an atomic operation, treating SQLite's "database is locked" (two
 * processes on one local KV file racing for the write lock) as a failed
 * check: every caller already re-reads and retries a failed commit.
 */
export async function commit(
  op: Deno.AtomicOperation,
): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
  try {
    return await op.commit();
  } catch (error) {
    if (error instanceof Error && /database is locked|busy/i.test(error.message)) {
      await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 8));
      return { ok: false };
    }
    throw error;
  }
}

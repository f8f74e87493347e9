/**
 * Reading a backend body to its end when Kleis needs no more of it.
 *
 * A body dropped half-read makes the backend see a client that went away
 * (a cancelled request in its logs and metrics), and the connection cannot
 * go back to the pool. So when Kleis has what it needs before the end (the
 * final event of a stream it collects into JSON, an error answer it only
 * names), it reads the rest and throws it away; bounded in time and size,
 * so a backend that keeps talking is cut off after all.
 */

/** How long the rest of a body may take before it is cut off. */
export const DRAIN_LIMIT_MS = 5_000;
/** How much of it is read at most. */
export const DRAIN_LIMIT_BYTES = 1024 * 1024;

export type DrainOutcome = "completed" | "cut";

/**
 * Reads `chunks` (whose first part the caller consumed) to the end. Past the
 * limits `abort` cancels the backend request and the iterator is closed.
 */
export async function drainRest(
  chunks: AsyncIterator<Uint8Array>,
  abort: AbortController,
  limits: { ms?: number; bytes?: number } = {},
): Promise<DrainOutcome> {
  const maxBytes = limits.bytes ?? DRAIN_LIMIT_BYTES;
  const timer = setTimeout(() => abort.abort(), limits.ms ?? DRAIN_LIMIT_MS);
  let bytes = 0;
  try {
    while (true) {
      const next = await chunks.next();
      if (next.done) return abort.signal.aborted ? "cut" : "completed";
      bytes += next.value.byteLength;
      if (bytes > maxBytes) break;
    }
  } catch {
    // Cut off by the time limit, or the backend broke off: either way it ended.
  } finally {
    clearTimeout(timer);
  }
  abort.abort();
  await chunks.return?.().catch(() => {});
  return "cut";
}

/** Reads a whole body that is not needed (an error answer whose status says enough). */
export async function discardBody(
  response: Response,
  limits: { ms?: number; bytes?: number } = {},
) {
  const body = response.body;
  if (!body) return;
  const reader = body.getReader();
  const maxBytes = limits.bytes ?? DRAIN_LIMIT_BYTES;
  const timer = setTimeout(() => reader.cancel().catch(() => {}), limits.ms ?? DRAIN_LIMIT_MS);
  let bytes = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      bytes += value.byteLength;
      if (bytes > maxBytes) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // cancelled at the time limit, or the connection broke: nothing to keep
  } finally {
    clearTimeout(timer);
  }
}

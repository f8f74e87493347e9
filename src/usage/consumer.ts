/**
 * The queue consumer: every usage message is one batch, ingested
 * idempotently (see ingest.ts). A throw makes the queue redeliver the
 * message; after the last retry Deno parks it at keys.usageUndelivered,
 * which ingestUndelivered() (run by the daily retention job and at start)
 * picks up, so a batch is never dropped for a transient failure.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import { type IngestOptions, ingestUsage, parseBatch } from "./ingest.ts";
import { markQueuesUnavailable } from "../kv/queues.ts";
import { handleAlertMessage, isAlertMessage } from "../alerts/delivery.ts";

/** Handles one queue message; exported for tests that drive delivery by hand. */
export async function handleUsageMessage(
  deps: Deps,
  message: unknown,
  options: IngestOptions = {},
): Promise<void> {
  const parsed = parseBatch(message);
  if (!parsed) {
    // Not ours (or corrupt): acknowledging it is the only way to stop redelivery.
    deps.log.warn("Ignored a queue message that is not a usage batch.");
    return;
  }
  if (parsed.rejected > 0) {
    deps.log.warn("Usage batch had malformed events.", {
      batchId: parsed.batch.id,
      rejected: parsed.rejected,
    });
  }
  await ingestUsage(deps, parsed.batch, options);
}

/**
 * Starts listening on the KV queue. The returned promise settles when the KV
 * is closed. Not started where the KV has no queues (recordUsage writes
 * directly there). A KV that turns out to have none (listenQueue missing,
 * throwing or failing) is switched to direct writes, and the promise
 * resolves: there is nothing left to listen to.
 */
export async function startUsageConsumer(deps: Deps, options: IngestOptions = {}): Promise<void> {
  ingestUndelivered(deps).catch((error) =>
    deps.log.error("Could not ingest undelivered usage batches.", { error })
  );
  try {
    await deps.kv.listenQueue(async (message) => {
      // The app's one queue listener also carries alert deliveries (src/alerts/delivery.ts).
      if (isAlertMessage(message)) return await handleAlertMessage(deps, message);
      try {
        await handleUsageMessage(deps, message, options);
      } catch (error) {
        deps.log.warn("Usage batch failed; the queue will redeliver it.", { error });
        throw error;
      }
    });
  } catch (error) {
    // A closed KV ends the listener as it should; anything else means no queue here.
    if (isClosedKvError(error)) throw error;
    markQueuesUnavailable(deps, "listenQueue failed", error);
  }
}

function isClosedKvError(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource ||
    (error instanceof Error && /already closed/i.test(error.message));
}

/** Ingests batches the queue gave up on, then deletes them. Returns how many were ingested. */
export async function ingestUndelivered(deps: Deps): Promise<number> {
  let count = 0;
  for await (const entry of deps.kv.list({ prefix: keys.usageUndeliveredPrefix() })) {
    const parsed = parseBatch(entry.value);
    if (parsed) await ingestUsage(deps, parsed.batch);
    else deps.log.warn("Dropped a corrupt undelivered usage batch.", { key: String(entry.key[1]) });
    await deps.kv.delete(entry.key);
    count++;
  }
  return count;
}

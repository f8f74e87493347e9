/**
 * Usage background work: the queue consumer, and a daily cron that deletes
 * buckets past the retention period and re-ingests batches the queue gave
 * up on. The job functions are plain functions, tested directly.
 */
import type { Deps } from "../deps.ts";
import { ingestUndelivered, startUsageConsumer } from "../usage/consumer.ts";
import { kvHasQueues } from "../kv/queues.ts";
import { runUsageRetention } from "../usage/retention.ts";

export async function usageRetentionJob(deps: Deps): Promise<void> {
  const removed = await runUsageRetention(deps);
  const reingested = kvHasQueues(deps) ? await ingestUndelivered(deps) : 0;
  deps.log.info("Usage retention ran.", { ...removed, reingested });
}

/** Registers the usage consumer and the daily retention cron (03:17 UTC). */
export function registerUsageWork(deps: Deps): void {
  if (kvHasQueues(deps)) {
    startUsageConsumer(deps).catch((error) =>
      deps.log.error("The usage queue consumer stopped.", { error })
    );
  }
  Deno.cron("kleis-usage-retention", "17 3 * * *", async () => {
    try {
      await usageRetentionJob(deps);
    } catch (error) {
      deps.log.error("Usage retention failed.", { error });
    }
  });
}

/**
 * Whether this KV handle has working queues. Usage batches
 * (src/usage/record.ts) and alert deliveries (src/alerts/delivery.ts) travel
 * through the KV queue where it has, and are written or sent directly where
 * it has not. It lives with the KV because it is a property of the store,
 * shared by every service that queues work.
 *
 * Known without trying:
 * - Deno Deploy has no KV queues: Deploy Classic, which had them, was shut
 *   down on 2026-07-20, and the current platform does not support
 *   `enqueue`/`listenQueue` (its migration guide says so).
 * - A KV Connect database (KLEIS_KV_PATH=https://...) has none either: Deno's
 *   client refuses an enqueue and its listenQueue never delivers anything.
 *
 * Found out at run time, anywhere else: a KV whose `enqueue` is missing or
 * fails saying queues are not supported, or whose `listenQueue` is missing,
 * throws or fails, is switched to direct writes for the rest of the app's
 * life (said once in the log). Any other enqueue failure is treated as passing:
 * that batch is written directly and the next one tries the queue again.
 */
import type { Deps } from "../deps.ts";
import { runtimeSlot } from "../runtime.ts";

/** Why this app stopped using the queue, once it has. */
const QUEUES = runtimeSlot(
  "usage.queues",
  () => ({ unavailable: undefined as string | undefined }),
);

/** True where the platform or the database type is known to have no queues. */
export function queuesKnownAbsent(config: Deps["config"]): boolean {
  return config.onDeploy || config.kvPath?.startsWith("http") === true;
}

/** True while usage should go through the queue of this app's KV. */
export function kvHasQueues(deps: Pick<Deps, "config" | "kv" | "runtime">): boolean {
  return !queuesKnownAbsent(deps.config) &&
    deps.runtime.get(QUEUES).unavailable === undefined &&
    typeof deps.kv.enqueue === "function" && typeof deps.kv.listenQueue === "function";
}

/** Errors by which a KV says it has no queues at all (as opposed to a passing failure). */
export function isQueueUnsupportedError(error: unknown): boolean {
  if (error instanceof TypeError && /is not a function/.test(error.message)) return true;
  return error instanceof Error &&
    /(enqueue|queue)[\w\s]*(not supported|unsupported|not available)|(not supported|unsupported)[\w\s]*(enqueue|queue)/i
      .test(error.message);
}

/** Switches this app to direct usage writes for the rest of the process. */
export function markQueuesUnavailable(
  deps: Pick<Deps, "runtime" | "log">,
  reason: string,
  error?: unknown,
): void {
  const state = deps.runtime.get(QUEUES);
  if (state.unavailable !== undefined) return;
  state.unavailable = reason;
  deps.log.warn(
    "KV queues are not available here; usage is written and alerts are sent directly.",
    {
      reason,
      ...(error === undefined ? {} : { error }),
    },
  );
}

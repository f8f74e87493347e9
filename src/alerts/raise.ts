/**
 * Raising an alert: one KV commit that takes the de-duplication key
 * (checked absent, with an expiry), stores the delivery record and, where
 * the KV has queues, enqueues the first attempt. However many instances see
 * the same event for the same subject and period, one commit wins and one
 * alert goes out. Where the KV has no queues the winner delivers it itself
 * (delivery.ts).
 *
 * Callers never wait: alertInBackground() runs the work off the request
 * path, tracked by the runtime so tests and shutdown can wait for it, and
 * logs a failure instead of throwing it.
 */
import type { Deps } from "../deps.ts";
import { timeOrderedId } from "../crypto.ts";
import { keys } from "../kv/keys.ts";
import { isQueueUnsupportedError, kvHasQueues, markQueuesUnavailable } from "../kv/queues.ts";
import { runtimeSlot } from "../runtime.ts";
import { alertMessage, deliverInProcess, DELIVERY_TTL_MS } from "./delivery.ts";
import { alertsOn } from "./settings.ts";
import type { AlertBody, AlertDelivery, AlertSettingsRecord } from "./types.ts";

export interface AlertDraft {
  type: AlertBody["type"];
  summary: string;
  subject: AlertBody["subject"];
  details: AlertBody["details"];
  /** One alert per (type, subject, period); the key lives for ttlMs. */
  dedup: { subject: string; period: string; ttlMs: number };
}

const MAX_REMEMBERED = 5_000;

/**
 * De-duplication keys this app already saw taken (by itself or another
 * instance), with when they expire: a condition that stays true (a quota
 * window above its threshold) then costs no KV commit per reading.
 */
const TAKEN = runtimeSlot("alerts.taken", () => new Map<string, number>());

export function dedupId(type: string, subject: string, period: string): string {
  return `${type}\n${subject}\n${period}`;
}

/** True when this app knows the alert was already raised (skip the KV work). */
export function alreadyRaised(
  deps: Pick<Deps, "runtime" | "now">,
  type: string,
  subject: string,
  period: string,
): boolean {
  const taken = deps.runtime.get(TAKEN);
  const id = dedupId(type, subject, period);
  const until = taken.get(id);
  if (until === undefined) return false;
  if (until > deps.now()) return true;
  taken.delete(id);
  return false;
}

function remember(deps: Pick<Deps, "runtime" | "now">, draft: AlertDraft): void {
  const taken = deps.runtime.get(TAKEN);
  if (taken.size >= MAX_REMEMBERED) taken.clear();
  taken.set(
    dedupId(draft.type, draft.dedup.subject, draft.dedup.period),
    deps.now() + draft.dedup.ttlMs,
  );
}

/**
 * Raises the alert unless it is off in `settings` or already raised.
 * Answers the new alert's id, or undefined when nothing was raised.
 */
export async function raiseAlert(
  deps: Deps,
  settings: AlertSettingsRecord,
  draft: AlertDraft,
): Promise<string | undefined> {
  if (!alertsOn(settings, draft.type)) return undefined;
  if (alreadyRaised(deps, draft.type, draft.dedup.subject, draft.dedup.period)) return undefined;
  const now = deps.now();
  const id = timeOrderedId(now, deps.random);
  const body: AlertBody = {
    id,
    type: draft.type,
    time: new Date(now).toISOString(),
    summary: draft.summary,
    subject: draft.subject,
    details: draft.details,
  };
  const delivery: AlertDelivery = { body, state: "pending", attempts: 0, updatedAt: now };
  const dedupKey = keys.alertDedup(draft.type, draft.dedup.subject, draft.dedup.period);
  const commit = (queued: boolean) => {
    const op = deps.kv.atomic()
      .check({ key: dedupKey, versionstamp: null })
      .set(dedupKey, { alertId: id, at: now }, { expireIn: draft.dedup.ttlMs })
      .set(keys.alertDelivery(id), delivery, { expireIn: DELIVERY_TTL_MS });
    if (queued) op.enqueue(alertMessage(id, 1));
    return op.commit();
  };
  let queued = kvHasQueues(deps);
  let result;
  try {
    result = await commit(queued);
  } catch (error) {
    if (!queued || !isQueueUnsupportedError(error)) throw error;
    markQueuesUnavailable(deps, "enqueue refused", error);
    queued = false;
    result = await commit(false);
  }
  remember(deps, draft);
  if (!result.ok) return undefined;
  deps.log.info("Alert raised.", { alertId: id, type: draft.type, subject: draft.subject.id });
  if (!queued) {
    deps.runtime.track(deliverInProcess(deps, id).catch((error) => logFailure(deps, error)));
  }
  return id;
}

function logFailure(deps: Pick<Deps, "log">, error: unknown): void {
  deps.log.error("Raising or delivering an alert failed.", { error });
}

/** Runs alert work off the caller's path; never throws, never makes the caller wait. */
export function alertInBackground(deps: Deps, work: () => Promise<unknown>): void {
  try {
    deps.runtime.track(
      Promise.resolve().then(work).catch((error) => logFailure(deps, error)),
    );
  } catch (error) {
    logFailure(deps, error);
  }
}

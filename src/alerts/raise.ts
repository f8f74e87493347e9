/**
 * Raising an alert: one KV commit that moves the subject's de-duplication
 * entry to the new period (checked against the entry's versionstamp, with
 * an expiry), stores the delivery record and, where the KV has queues,
 * enqueues the first attempt. However many instances see the same event for
 * the same subject and period, one commit wins and one alert goes out.
 * Where the KV has no queues the winner delivers it itself (delivery.ts).
 *
 * Periods are ordered numbers (a token generation, a day's start, a quota
 * window's reset time): an alert is raised only for a period later than
 * the one last alerted, so a late reading of an earlier period (a usage
 * batch redelivered after midnight, a quota reading from before a reset)
 * never repeats an alert. `tolerance` treats periods that close as one
 * (reset times that two sources give a few seconds apart).
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

export interface AlertPeriod {
  /** What the alert is about, for de-duplication (an account and window, a key, ...). */
  subject: string;
  /** Ordered: a later period may alert again, an earlier or equal one never. */
  period: number;
  /** Periods at most this far apart are the same period (default 0). */
  tolerance?: number;
  /** How long the de-duplication entry lives after the alert. */
  ttlMs: number;
}

export interface AlertDraft {
  type: AlertBody["type"];
  summary: string;
  subject: AlertBody["subject"];
  details: AlertBody["details"];
  dedup: AlertPeriod;
}

/** What keys.alertDedup holds. */
interface DedupEntry {
  period: number;
  alertId: string;
  at: number;
}

const MAX_REMEMBERED = 5_000;
const MAX_COMMIT_ATTEMPTS = 5;

/**
 * The period this app last saw alerted per (type, subject), by itself or
 * another instance, and until when: a condition that stays true (a quota
 * window above its threshold) then costs no KV work per reading.
 */
const TAKEN = runtimeSlot(
  "alerts.taken",
  () => new Map<string, { period: number; until: number }>(),
);

const isNewer = (period: number, than: number, tolerance = 0) => period > than + tolerance;

/** True when this app knows an alert for this period (or a later one) was already raised. */
export function alreadyRaised(
  deps: Pick<Deps, "runtime" | "now">,
  type: string,
  dedup: Omit<AlertPeriod, "ttlMs">,
): boolean {
  const taken = deps.runtime.get(TAKEN);
  const id = `${type}\n${dedup.subject}`;
  const seen = taken.get(id);
  if (seen === undefined) return false;
  if (seen.until <= deps.now()) {
    taken.delete(id);
    return false;
  }
  return !isNewer(dedup.period, seen.period, dedup.tolerance);
}

function remember(
  deps: Pick<Deps, "runtime" | "now">,
  type: string,
  dedup: AlertPeriod,
  period: number,
) {
  const taken = deps.runtime.get(TAKEN);
  if (taken.size >= MAX_REMEMBERED) taken.clear();
  taken.set(`${type}\n${dedup.subject}`, { period, until: deps.now() + dedup.ttlMs });
}

/**
 * Raises the alert unless it is off in `settings` or already raised for
 * this period. Answers the new alert's id, or undefined when nothing was raised.
 */
export async function raiseAlert(
  deps: Deps,
  settings: AlertSettingsRecord,
  draft: AlertDraft,
): Promise<string | undefined> {
  if (!alertsOn(settings, draft.type)) return undefined;
  if (alreadyRaised(deps, draft.type, draft.dedup)) return undefined;
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
  const dedupKey = keys.alertDedup(draft.type, draft.dedup.subject);
  let queued = kvHasQueues(deps);
  for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
    const entry = await deps.kv.get<DedupEntry>(dedupKey);
    if (entry.value && !isNewer(draft.dedup.period, entry.value.period, draft.dedup.tolerance)) {
      remember(deps, draft.type, draft.dedup, entry.value.period);
      return undefined;
    }
    const commit = () => {
      const value: DedupEntry = { period: draft.dedup.period, alertId: id, at: now };
      const op = deps.kv.atomic()
        .check(entry)
        .set(dedupKey, value, { expireIn: draft.dedup.ttlMs })
        .set(keys.alertDelivery(id), delivery, { expireIn: DELIVERY_TTL_MS });
      if (queued) op.enqueue(alertMessage(id, 1));
      return op.commit();
    };
    let result;
    try {
      result = await commit();
    } catch (error) {
      if (!queued || !isQueueUnsupportedError(error)) throw error;
      markQueuesUnavailable(deps, "enqueue refused", error);
      queued = false;
      result = await commit();
    }
    // Lost the race: read again, and see which period the winner wrote.
    if (!result.ok) continue;
    remember(deps, draft.type, draft.dedup, draft.dedup.period);
    deps.log.info("Alert raised.", { alertId: id, type: draft.type, subject: draft.subject.id });
    if (!queued) {
      deps.runtime.track(deliverInProcess(deps, id).catch((error) => logFailure(deps, error)));
    }
    return id;
  }
  return undefined;
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

/**
 * Delivering alerts: one JSON POST per attempt to the configured webhook,
 * signed when a secret is set (signature.ts), without following redirects
 * (a redirect could carry the body and signature elsewhere) and bounded by a
 * timeout. A failed attempt is retried after the delays in ALERT_TUNING; the
 * outcome (sent, or failed after N attempts) goes to the audit log.
 *
 * Where the KV has queues, every attempt is a queue message (kleis.alert.v1)
 * handled by the app's one queue listener (src/usage/consumer.ts dispatches
 * it here), and the next attempt is enqueued with its delay in the same
 * commit that records the failed one, so a process that dies between
 * attempts loses nothing. Where it has none (Deno Deploy, KV Connect:
 * src/kv/queues.ts), the raising instance runs the attempts itself; a
 * process that dies then loses the retries still waiting.
 *
 * Each attempt is committed against the delivery record's versionstamp, so
 * a message the queue hands out twice is recorded (and retried) once.
 * Delivery is at least once: a receiver may see an alert id twice if a
 * process dies between the POST and the commit.
 */
import type { Deps } from "../deps.ts";
import { auditRecord } from "../audit.ts";
import { timeOrderedId } from "../crypto.ts";
import { conflict } from "../errors.ts";
import { keys } from "../kv/keys.ts";
import { runtimeSlot } from "../runtime.ts";
import { VERSION } from "../version.ts";
import { openSecret, readAlertSettings, urlForLogs } from "./settings.ts";
import { SIGNATURE_HEADER, signatureHeader } from "./signature.ts";
import type { AlertBody, AlertDelivery, AlertSettingsRecord } from "./types.ts";

export interface AlertTuning {
  /** Waits before the second, third, ... attempt; one attempt more than there are delays. */
  retryDelaysMs: number[];
  /** Bound on one POST, answer included. */
  timeoutMs: number;
}

/**
 * This app's retry schedule and timeout: 5 attempts over about 42 minutes
 * (30 s, 2 min, 10 min, 30 min apart). Tests shorten it through the slot.
 */
export const ALERT_TUNING = runtimeSlot("alerts.tuning", (): AlertTuning => ({
  retryDelaysMs: [30_000, 120_000, 600_000, 1_800_000],
  timeoutMs: 10_000,
}));

/** How long a delivery record is kept after its last change (for support and de-duplication). */
export const DELIVERY_TTL_MS = 30 * 24 * 60 * 60 * 1000;

const MESSAGE_TYPE = "kleis.alert.v1";

export interface AlertMessage {
  type: typeof MESSAGE_TYPE;
  id: string;
  attempt: number;
}

export function alertMessage(id: string, attempt: number): AlertMessage {
  return { type: MESSAGE_TYPE, id, attempt };
}

export function isAlertMessage(value: unknown): value is AlertMessage {
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return v.type === MESSAGE_TYPE && typeof v.id === "string" &&
    typeof v.attempt === "number" && Number.isInteger(v.attempt) && v.attempt >= 1;
}

export interface PostOutcome {
  ok: boolean;
  status?: number;
  error?: string;
}

/** One POST of the body to the settings' URL. Never throws. */
export async function postAlert(
  deps: Pick<Deps, "fetch" | "now" | "sealingKey" | "runtime">,
  settings: AlertSettingsRecord,
  body: AlertBody,
): Promise<PostOutcome> {
  if (settings.url === null) return { ok: false, error: "no webhook URL is set" };
  const text = JSON.stringify(body);
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": `Kleis/${VERSION}`,
    "X-Kleis-Event": body.type,
    "X-Kleis-Delivery": body.id,
  };
  try {
    const secret = await openSecret(deps, settings);
    if (secret !== undefined) {
      headers[SIGNATURE_HEADER] = await signatureHeader(
        secret,
        Math.floor(deps.now() / 1000),
        text,
      );
    }
  } catch {
    return { ok: false, error: "the signing secret could not be opened (KLEIS_ENCRYPTION_KEY)" };
  }
  const { timeoutMs } = deps.runtime.get(ALERT_TUNING);
  try {
    const res = await deps.fetch(settings.url, {
      method: "POST",
      headers,
      body: text,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    const why = res.status >= 300 && res.status < 400
      ? "redirects are not followed"
      : "the receiver did not accept it";
    return { ok: false, status: res.status, error: `HTTP ${res.status}: ${why}` };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    return {
      ok: false,
      error: timedOut
        ? `no answer within ${timeoutMs} ms`
        : `could not connect: ${error instanceof Error ? error.name : "error"}`,
    };
  }
}

type AttemptResult = "done" | "retry";

/** The delivery record after attempt number `attempts`: sent, or `unsent` with the outcome's status and error. */
function recordAttempt(
  body: AlertBody,
  outcome: PostOutcome,
  unsent: "pending" | "failed",
  attempts: number,
  now: number,
): AlertDelivery {
  const record: AlertDelivery = {
    body,
    state: outcome.ok ? "sent" : unsent,
    attempts,
    updatedAt: now,
  };
  if (outcome.status !== undefined) record.lastStatus = outcome.status;
  if (outcome.error !== undefined) record.lastError = outcome.error;
  return record;
}

/**
 * Attempt number `attempt` of alert `id`: skipped when the record says it is
 * already done or this attempt was made. With `enqueueNext`, a retry is
 * enqueued (with its delay) in the commit that records the failure.
 */
export async function attemptDelivery(
  deps: Deps,
  id: string,
  attempt: number,
  enqueueNext: boolean,
): Promise<AttemptResult> {
  const entry = await deps.kv.get<AlertDelivery>(keys.alertDelivery(id));
  const delivery = entry.value;
  if (!delivery || delivery.state !== "pending" || delivery.attempts >= attempt) return "done";
  const settings = await readAlertSettings(deps.kv);
  const outcome = await postAlert(deps, settings, delivery.body);
  const { retryDelaysMs } = deps.runtime.get(ALERT_TUNING);
  const retry = !outcome.ok && settings.url !== null && attempt <= retryDelaysMs.length;
  const next = recordAttempt(
    delivery.body,
    outcome,
    retry ? "pending" : "failed",
    attempt,
    deps.now(),
  );
  const op = deps.kv.atomic()
    .check(entry)
    .set(keys.alertDelivery(id), next, { expireIn: DELIVERY_TTL_MS });
  if (retry) {
    if (enqueueNext) {
      op.enqueue(alertMessage(id, attempt + 1), { delay: retryDelaysMs[attempt - 1]! });
    }
  } else {
    const audit = auditRecord(deps, outcomeAudit(delivery.body, settings, next));
    op.set(audit.key, audit.value, { expireIn: audit.expireIn });
  }
  const result = await op.commit();
  if (!result.ok) return "done"; // another delivery of this message recorded it first
  if (!retry) logOutcome(deps, delivery.body, settings, next);
  return retry ? "retry" : "done";
}

/** What the audit entry and the log line say of a finished delivery (the URL's origin only). */
function outcomeFields(body: AlertBody, settings: AlertSettingsRecord, d: AlertDelivery) {
  return {
    alertId: body.id,
    type: body.type,
    attempts: d.attempts,
    url: urlForLogs(settings.url),
    status: d.lastStatus ?? null,
  };
}

function outcomeAudit(
  body: AlertBody,
  settings: AlertSettingsRecord,
  d: AlertDelivery,
  actor = "system",
) {
  return {
    action: d.state === "sent" ? "alert.sent" as const : "alert.failed" as const,
    actor,
    target: body.subject.id,
    details: {
      ...outcomeFields(body, settings, d),
      ...(d.state === "failed" ? { error: d.lastError ?? null } : {}),
    },
  };
}

function logOutcome(
  deps: Pick<Deps, "log">,
  body: AlertBody,
  settings: AlertSettingsRecord,
  d: AlertDelivery,
): void {
  const fields = { ...outcomeFields(body, settings, d), error: d.lastError ?? null };
  if (d.state === "sent") deps.log.info("Alert sent.", fields);
  else deps.log.warn("Alert could not be delivered.", fields);
}

/** The queue listener's handler for alert messages (a throw makes the queue redeliver). */
export async function handleAlertMessage(deps: Deps, message: AlertMessage): Promise<void> {
  await attemptDelivery(deps, message.id, message.attempt, true);
}

/** Runs every attempt in this process (no queues here), waiting between them. */
export async function deliverInProcess(deps: Deps, id: string): Promise<void> {
  for (let attempt = 1; attempt < 100; attempt++) {
    const result = await attemptDelivery(deps, id, attempt, false);
    if (result === "done") return;
    const delay = deps.runtime.get(ALERT_TUNING).retryDelaysMs[attempt - 1] ?? 0;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * The admin's "send test alert": one attempt, answered when done (no
 * retries: the admin sees the receiver's answer at once), audited like any
 * other delivery. 409 when no webhook URL is set.
 */
export async function sendTestAlert(deps: Deps): Promise<PostOutcome & { id: string }> {
  const settings = await readAlertSettings(deps.kv);
  if (settings.url === null) {
    throw conflict("alerts_not_configured", "Set a webhook URL before sending a test alert.");
  }
  const now = deps.now();
  const body: AlertBody = {
    id: timeOrderedId(now, deps.random),
    type: "alert.test",
    time: new Date(now).toISOString(),
    summary: "Test alert from Kleis: the webhook is reachable.",
    subject: { kind: "kleis", id: "kleis" },
    details: {},
  };
  const outcome = await postAlert(deps, settings, body);
  const delivery = recordAttempt(body, outcome, "failed", 1, now);
  const audit = auditRecord(deps, outcomeAudit(body, settings, delivery, "admin"));
  await deps.kv.set(audit.key, audit.value, { expireIn: audit.expireIn });
  logOutcome(deps, body, settings, delivery);
  return { id: body.id, ...outcome };
}

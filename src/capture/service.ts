/**
 * Switching request capture on and off for a key, and the captures as the
 * admin API shows them (docs/api.md#request-capture). The switch lives on the
 * key record, which the key middleware reads for every request on every
 * instance, so a start or stop applies to the next request everywhere. Each
 * start, stop and deletion is written to the audit log (start and stop in
 * the same commit as the record).
 */
import type { Deps } from "../deps.ts";
import { appendAudit } from "../audit.ts";
import { notFound } from "../errors.ts";
import { getApiKey } from "../keys/repository.ts";
import { assertNotRevoked, changeKey } from "../keys/service.ts";
import {
  type CaptureSummary,
  type CaptureView,
  getCapture,
  listCaptures,
  removeAllCaptures,
  removeCapture,
} from "./store.ts";

export const DEFAULT_CAPTURE_SECONDS = 3600;
export const MAX_CAPTURE_SECONDS = 24 * 3600;
export const MIN_CAPTURE_SECONDS = 60;

export type CaptureState =
  | { active: true; startedAt: number; until: number }
  | { active: false };

function stateOf(capture: { startedAt: number; until: number } | undefined, now: number) {
  return capture !== undefined && capture.until > now
    ? { active: true as const, ...capture }
    : { active: false as const };
}

/** Captures the key's requests for `seconds` from now (a running capture is extended or cut). */
export async function startCapture(deps: Deps, keyId: string, seconds: number) {
  const { key } = await changeKey(deps, keyId, (current, now) => {
    assertNotRevoked(current);
    const capture = { startedAt: now, until: now + seconds * 1000 };
    return {
      next: { ...current, capture },
      audit: {
        action: "key.capture_started",
        actor: "admin",
        target: keyId,
        details: { seconds, until: new Date(capture.until).toISOString() },
      },
    };
  });
  return stateOf(key.capture, deps.now());
}

/** Stops capturing; stopping a key that is not capturing changes nothing. */
export async function stopCapture(deps: Deps, keyId: string): Promise<CaptureState> {
  await changeKey(deps, keyId, (current, now) => {
    if (current.capture === undefined) return { next: current, audit: undefined };
    const { capture, ...next } = current;
    const wasActive = capture.until > now;
    return {
      next,
      audit: {
        action: "key.capture_stopped",
        actor: "admin",
        target: keyId,
        details: { startedAt: new Date(capture.startedAt).toISOString(), early: wasActive },
      },
    };
  });
  return { active: false };
}

async function requireKey(deps: Deps, keyId: string) {
  const key = await getApiKey(deps.kv, keyId);
  if (!key) throw notFound(`The API key ${keyId}`);
  return key;
}

/** The key's capture state and its captures, newest first. */
export async function captureOverview(
  deps: Deps,
  keyId: string,
): Promise<{ capture: CaptureState; captures: CaptureSummary[] }> {
  const key = await requireKey(deps, keyId);
  return { capture: stateOf(key.capture, deps.now()), captures: await listCaptures(deps, keyId) };
}

export async function viewCapture(deps: Deps, keyId: string, id: string): Promise<CaptureView> {
  await requireKey(deps, keyId);
  const capture = await getCapture(deps, keyId, id);
  if (!capture) throw notFound(`The capture ${id}`);
  return capture;
}

export async function deleteCapture(deps: Deps, keyId: string, id: string): Promise<void> {
  await requireKey(deps, keyId);
  // An expired capture not yet cleaned up by expireIn is gone as far as the admin can see.
  if (!(await getCapture(deps, keyId, id)) || !(await removeCapture(deps, keyId, id))) {
    throw notFound(`The capture ${id}`);
  }
  await appendAudit(deps, {
    action: "key.captures_deleted",
    actor: "admin",
    target: keyId,
    details: { captures: 1, id },
  });
}

export async function deleteAllCaptures(deps: Deps, keyId: string): Promise<number> {
  await requireKey(deps, keyId);
  const removed = await removeAllCaptures(deps, keyId);
  await appendAudit(deps, {
    action: "key.captures_deleted",
    actor: "admin",
    target: keyId,
    details: { captures: removed },
  });
  return removed;
}

/**
 * Captured requests in KV (docs/architecture.md#kv-keys). A capture is one
 * record at keys.capture(keyId, id) plus its two bodies in parts of at most
 * BODY_PART_BYTES at keys.captureBody(...): KV values hold at most 64 KiB.
 * The parts are written first and the record last, so a capture is listed
 * only once it is whole; everything expires with the retention period
 * (expireIn only cleans up: reads judge `expiresAt` by the injected clock).
 * Ids are time-ordered, so a reverse listing is newest first, and the
 * oldest beyond config.capture.maxPerKey are removed after each write.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";

export const BODY_PART_BYTES = 60_000;

export type BodyPart = "request" | "answer";

/** A body's size: what passed, what was kept (after redaction), in how many parts. */
export interface BodyInfo {
  /** Bytes that passed through Kleis. */
  bytes: number;
  /** True when only the first config.capture.maxBodyBytes were kept. */
  truncated: boolean;
  /** Parts stored under keys.captureBody. */
  parts: number;
}

export interface CapturedRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: BodyInfo;
}

export interface CapturedAnswer {
  status: number;
  headers: [string, string][];
  body: BodyInfo;
  /** How the answer's body ended for the client. */
  outcome: "completed" | "client_closed" | "error";
}

export interface CaptureRecord {
  id: string;
  keyId: string;
  requestId: string;
  /** When the request arrived and how long until its answer ended. */
  at: number;
  durationMs: number;
  expiresAt: number;
  /** The Kleis route the client called. */
  endpoint: string;
  provider: string | null;
  model: string | null;
  accountId: string | null;
  client: string;
  userAgent: string;
  /** Calls made to backends (retries and failovers included); the last one is `upstream`. */
  attempts: number;
  /** The request as it left Kleis for the backend; null when Kleis answered itself. */
  upstream: CapturedRequest | null;
  answer: CapturedAnswer;
}

/** A capture as listed: the record without headers. */
export type CaptureSummary =
  & Omit<CaptureRecord, "upstream" | "answer">
  & {
    status: number;
    outcome: CapturedAnswer["outcome"];
    upstreamUrl: string | null;
    requestBytes: number | null;
    answerBytes: number;
    truncated: boolean;
  };

/** A capture with its bodies as text, as the admin API shows one. */
export interface CaptureView extends CaptureRecord {
  requestBody: string | null;
  answerBody: string;
}

function split(bytes: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += BODY_PART_BYTES) {
    parts.push(bytes.slice(i, i + BODY_PART_BYTES));
  }
  return parts;
}

/** Writes a capture (bodies already redacted and capped), then trims the key's oldest. */
export async function saveCapture(
  deps: Pick<Deps, "kv" | "config">,
  record: Omit<CaptureRecord, "upstream" | "answer"> & {
    upstream: (Omit<CapturedRequest, "body"> & { body: Omit<BodyInfo, "parts"> }) | null;
    answer: Omit<CapturedAnswer, "body"> & { body: Omit<BodyInfo, "parts"> };
  },
  bodies: { request: Uint8Array | null; answer: Uint8Array },
): Promise<void> {
  const expireIn = deps.config.capture.retentionMs;
  const requestParts = bodies.request ? split(bodies.request) : [];
  const answerParts = split(bodies.answer);
  const writes: [BodyPart, Uint8Array[]][] = [["request", requestParts], ["answer", answerParts]];
  for (const [part, chunks] of writes) {
    for (const [index, chunk] of chunks.entries()) {
      await deps.kv.set(keys.captureBody(record.keyId, record.id, part, index), chunk, {
        expireIn,
      });
    }
  }
  const stored: CaptureRecord = {
    ...record,
    upstream: record.upstream
      ? { ...record.upstream, body: { ...record.upstream.body, parts: requestParts.length } }
      : null,
    answer: { ...record.answer, body: { ...record.answer.body, parts: answerParts.length } },
  };
  await deps.kv.set(keys.capture(record.keyId, record.id), stored, { expireIn });
  await trim(deps, record.keyId);
}

/** Removes the key's captures beyond the newest maxPerKey. */
async function trim(deps: Pick<Deps, "kv" | "config">, keyId: string): Promise<void> {
  const iter = deps.kv.list({ prefix: keys.capturesOf(keyId) }, { reverse: true });
  let seen = 0;
  for await (const entry of iter) {
    if (++seen <= deps.config.capture.maxPerKey) continue;
    await removeCapture(deps.kv, keyId, String(entry.key[2]));
  }
}

/** The key's live captures, newest first. */
export async function listCaptures(
  deps: Pick<Deps, "kv" | "now">,
  keyId: string,
): Promise<CaptureSummary[]> {
  const now = deps.now();
  const out: CaptureSummary[] = [];
  const iter = deps.kv.list<CaptureRecord>({ prefix: keys.capturesOf(keyId) }, { reverse: true });
  for await (const { value } of iter) {
    if (value.expiresAt <= now) continue;
    const { upstream, answer, ...rest } = value;
    out.push({
      ...rest,
      status: answer.status,
      outcome: answer.outcome,
      upstreamUrl: upstream?.url ?? null,
      requestBytes: upstream?.body.bytes ?? null,
      answerBytes: answer.body.bytes,
      truncated: (upstream?.body.truncated ?? false) || answer.body.truncated,
    });
  }
  return out;
}

async function readBody(kv: Deno.Kv, record: CaptureRecord, part: BodyPart, parts: number) {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < parts; i += 10) {
    const batch = Array.from(
      { length: Math.min(10, parts - i) },
      (_, j) => keys.captureBody(record.keyId, record.id, part, i + j),
    );
    for (const entry of await kv.getMany<Uint8Array[]>(batch)) {
      if (entry.value instanceof Uint8Array) chunks.push(entry.value);
    }
  }
  const whole = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    whole.set(c, offset);
    offset += c.length;
  }
  return new TextDecoder().decode(whole);
}

/** One live capture with its bodies, or undefined. */
export async function getCapture(
  deps: Pick<Deps, "kv" | "now">,
  keyId: string,
  id: string,
): Promise<CaptureView | undefined> {
  const record = (await deps.kv.get<CaptureRecord>(keys.capture(keyId, id))).value;
  if (!record || record.expiresAt <= deps.now()) return undefined;
  const requestBody = record.upstream
    ? await readBody(deps.kv, record, "request", record.upstream.body.parts)
    : null;
  const answerBody = await readBody(deps.kv, record, "answer", record.answer.body.parts);
  return { ...record, requestBody, answerBody };
}

/** Deletes one capture and its body parts; false when there was none. */
export async function removeCapture(kv: Deno.Kv, keyId: string, id: string): Promise<boolean> {
  const existed = (await kv.get(keys.capture(keyId, id))).versionstamp !== null;
  if (!existed) return false;
  await kv.delete(keys.capture(keyId, id));
  for await (const entry of kv.list({ prefix: keys.captureBodiesOf(keyId, id) })) {
    await kv.delete(entry.key);
  }
  return existed;
}

/** Deletes every capture of a key; the number of live ones removed (expired ones go unseen). */
export async function removeAllCaptures(
  deps: Pick<Deps, "kv" | "now">,
  keyId: string,
): Promise<number> {
  const now = deps.now();
  let removed = 0;
  const iter = deps.kv.list<CaptureRecord>({ prefix: keys.capturesOf(keyId) });
  for await (const entry of iter) {
    await removeCapture(deps.kv, keyId, entry.value.id);
    if (entry.value.expiresAt > now) removed++;
  }
  return removed;
}

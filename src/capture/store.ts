/**
 * Captured requests in KV (docs/architecture.md#kv-keys). A capture is one
 * record at keys.capture(keyId, id) plus its two bodies in parts of at most
 * BODY_PART_BYTES at keys.captureBody(...): KV values hold at most 64 KiB.
 * The parts and the record are written in one commit (bodies near the
 * largest cap write their parts first), so a capture is listed only once it
 * is whole; everything expires with the retention period
 * (expireIn only cleans up: reads judge `expiresAt` by the injected clock).
 * Ids are time-ordered, so a reverse listing is newest first. A small index
 * per key (its captures, oldest first) lets a write remove the oldest beyond
 * config.capture.maxPerKey in the same commit, without listing them.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import { runtimeSlot } from "../runtime.ts";
import { concatBytes } from "../sse_scan.ts";

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

/**
 * Bytes of values per commit: well under the 800 KiB a KV commit may carry,
 * so a capture with the default cap (two bodies of 256 KiB) is one commit.
 */
const COMMIT_BYTES = 600_000;
/** Captures removed for the count cap in one commit (more go with the next writes). */
const EVICT_PER_COMMIT = 16;
/**
 * Index commits lost to another writer are retried after a short random
 * pause (doubling, at most 50 ms): several instances capturing one key's
 * requests at once must all get their turn, not give up after a few quick
 * losses to whichever instance is busiest.
 */
const MAX_ATTEMPTS = 24;
const MAX_PAUSE_MS = 50;

function pauseAfterConflict(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(MAX_PAUSE_MS, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One capture in the key's index, oldest first: enough to delete it without reading it. */
interface IndexEntry {
  id: string;
  request: number;
  answer: number;
  expiresAt: number;
}

/** The end of this app's write chain per key, so its own writes never conflict. */
const CHAINS = runtimeSlot("capture.chains", () => new Map<string, Promise<unknown>>());

function serialised<T>(deps: Pick<Deps, "runtime">, keyId: string, task: () => Promise<T>) {
  const chains = deps.runtime.get(CHAINS);
  const run = (chains.get(keyId) ?? Promise.resolve()).then(task, task);
  const tail = run.catch(() => undefined);
  chains.set(keyId, tail);
  void tail.then(() => {
    if (chains.get(keyId) === tail) chains.delete(keyId);
  });
  return run;
}

function deleteCapture(op: Deno.AtomicOperation, keyId: string, entry: IndexEntry) {
  op.delete(keys.capture(keyId, entry.id));
  for (let i = 0; i < entry.request; i++) {
    op.delete(keys.captureBody(keyId, entry.id, "request", i));
  }
  for (let i = 0; i < entry.answer; i++) op.delete(keys.captureBody(keyId, entry.id, "answer", i));
}

/**
 * Writes a capture (bodies already redacted and capped). With the record go
 * the key's index and the removal of its oldest captures beyond maxPerKey:
 * one read and one commit per capture, checked against the index so that
 * instances writing for the same key at once retry instead of losing one.
 */
export async function saveCapture(
  deps: Pick<Deps, "kv" | "config" | "now" | "runtime">,
  record: Omit<CaptureRecord, "upstream" | "answer"> & {
    upstream: (Omit<CapturedRequest, "body"> & { body: Omit<BodyInfo, "parts"> }) | null;
    answer: Omit<CapturedAnswer, "body"> & { body: Omit<BodyInfo, "parts"> };
  },
  bodies: { request: Uint8Array | null; answer: Uint8Array },
): Promise<void> {
  const { retentionMs: expireIn, maxPerKey } = deps.config.capture;
  const { keyId, id } = record;
  const request = bodies.request ? split(bodies.request) : [];
  const answer = split(bodies.answer);
  const stored: CaptureRecord = {
    ...record,
    upstream: record.upstream
      ? { ...record.upstream, body: { ...record.upstream.body, parts: request.length } }
      : null,
    answer: { ...record.answer, body: { ...record.answer.body, parts: answer.length } },
  };
  const parts: [Deno.KvKey, Uint8Array][] = [
    ...request.map((c, i) =>
      [keys.captureBody(keyId, id, "request", i), c] as [Deno.KvKey, Uint8Array]
    ),
    ...answer.map((c, i) =>
      [keys.captureBody(keyId, id, "answer", i), c] as [Deno.KvKey, Uint8Array]
    ),
  ];
  const total = parts.reduce((n, [, c]) => n + c.length, 0);
  if (total > COMMIT_BYTES) {
    // Bodies near the largest cap: their parts first, in commits of their own.
    let op = deps.kv.atomic();
    let bytes = 0;
    for (const [key, chunk] of parts) {
      if (bytes > 0 && bytes + chunk.length > COMMIT_BYTES) {
        await commit(op);
        op = deps.kv.atomic();
        bytes = 0;
      }
      op.set(key, chunk, { expireIn });
      bytes += chunk.length;
    }
    await commit(op);
  }
  const mine: IndexEntry = {
    id,
    request: request.length,
    answer: answer.length,
    expiresAt: record.expiresAt,
  };
  await serialised(deps, keyId, async () => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const index = await deps.kv.get<IndexEntry[]>(keys.captureIndex(keyId));
      const now = deps.now();
      // Expired captures leave the index; KV's expireIn removes their entries.
      const entries = (index.value ?? []).filter((e) => e.expiresAt > now && e.id !== id);
      entries.push(mine);
      const over = Math.min(EVICT_PER_COMMIT, Math.max(0, entries.length - maxPerKey));
      const evicted = entries.splice(0, over);
      const op = deps.kv.atomic().check(index);
      if (total <= COMMIT_BYTES) {
        for (const [key, chunk] of parts) op.set(key, chunk, { expireIn });
      }
      op.set(keys.capture(keyId, id), stored, { expireIn });
      op.set(keys.captureIndex(keyId), entries, { expireIn });
      for (const entry of evicted) deleteCapture(op, keyId, entry);
      if ((await op.commit()).ok) return;
      await pauseAfterConflict(attempt);
    }
    throw new Error("The capture index kept changing; the capture was dropped.");
  });
}

async function commit(op: Deno.AtomicOperation): Promise<void> {
  if (!(await op.commit()).ok) throw new Error("A capture commit was refused.");
}

/** The key's live captures, newest first. */
export async function listCaptures(
  deps: Pick<Deps, "kv" | "now" | "config">,
  keyId: string,
): Promise<CaptureSummary[]> {
  const now = deps.now();
  const out: CaptureSummary[] = [];
  const iter = deps.kv.list<CaptureRecord>({ prefix: keys.capturesOf(keyId) }, {
    reverse: true,
    limit: deps.config.capture.maxPerKey,
  });
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
  const whole = concatBytes(chunks, chunks.reduce((n, c) => n + c.length, 0));
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

/** Deletes one capture, its body parts and its index entry; false when there was none. */
export function removeCapture(
  deps: Pick<Deps, "kv" | "runtime">,
  keyId: string,
  id: string,
): Promise<boolean> {
  return serialised(deps, keyId, async () => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const index = await deps.kv.get<IndexEntry[]>(keys.captureIndex(keyId));
      const entries = index.value ?? [];
      const entry = entries.find((e) => e.id === id);
      if (!entry) return false;
      const op = deps.kv.atomic().check(index)
        .set(keys.captureIndex(keyId), entries.filter((e) => e !== entry));
      deleteCapture(op, keyId, entry);
      if ((await op.commit()).ok) return true;
      await pauseAfterConflict(attempt);
    }
    throw new Error("The capture index kept changing; try again.");
  });
}

/** Deletes every capture of a key; the number of live ones removed (expired ones go unseen). */
export function removeAllCaptures(
  deps: Pick<Deps, "kv" | "now" | "runtime">,
  keyId: string,
): Promise<number> {
  return serialised(deps, keyId, async () => {
    const now = deps.now();
    let removed = 0;
    for await (const entry of deps.kv.list({ prefix: keys.captureBodiesOf(keyId) })) {
      await deps.kv.delete(entry.key);
    }
    const iter = deps.kv.list<CaptureRecord>({ prefix: keys.capturesOf(keyId) });
    for await (const entry of iter) {
      await deps.kv.delete(entry.key);
      if (entry.value.expiresAt > now) removed++;
    }
    await deps.kv.delete(keys.captureIndex(keyId));
    return removed;
  });
}

/**
 * The client side of a streamed answer: the one stream layer between the
 * backend's body and the client (docs/architecture.md#streaming).
 *
 * - Passed-through streams (no rewriter): every backend chunk goes out as
 *   it arrives, as the same Uint8Array. A byte scan (src/sse_scan.ts) finds
 *   where events end; only an event whose bytes contain `"usage"` is
 *   decoded and parsed, for its token usage.
 * - Rewritten streams (Claude tool names, API translation): whole events go
 *   out as soon as their end arrives (at most one event is held). Events
 *   the rewriter has no use for (its `marker` is not in their bytes) go out
 *   as bytes too; only the others are decoded.
 * - Pull-based: nothing is read from the backend before the client wants more,
 *   so backpressure reaches the backend.
 * - After `keepaliveMs` without traffic to the client, a `: keepalive`
 *   comment goes out (only between events, never inside one).
 * - After `idleTimeoutMs` without a byte from the backend, the stream ends
 *   with an error event in the API's shape and the backend request is
 *   cancelled. (If the backend stalled in the middle of an event that was
 *   already passed on, the stream is broken off instead: a partial event
 *   cannot be completed.)
 * - A client that goes away cancels the backend request.
 *
 * Per chunk the pump does one read, one enqueue and the scan: no timer, no
 * clock read, no extra promise, no copy. Silence is judged by one interval
 * timer shared by every open stream (ticker.ts), which notices traffic
 * through flags the pump sets; keepalives and the stall limit therefore fire
 * up to one tick late, never early.
 */
import type { AnswerRewriter, AnswerShape } from "../providers/proxy_types.ts";
import { encodeComment, parseEvent } from "../sse.ts";
import { bytesOf, concatBytes, indexOfBytes, SseScanner } from "../sse_scan.ts";
import { streamErrorEvent } from "./stream_errors.ts";
import { KleisError } from "../errors.ts";
import type { ProviderId } from "../model/providers.ts";
import {
  backendTimeout,
  backendUnreachable,
  clientClosed,
  formatDuration,
} from "./proxy_errors.ts";
import { USAGE_MARKER, type UsageMeter } from "./usage_extract.ts";
import { IdleTimer, type Ticker, tickerFor, type Watch } from "./ticker.ts";

export type StreamOutcome = "completed" | "client_aborted" | "stalled" | "upstream_error";

export interface StreamTiming {
  keepaliveMs: number;
  idleTimeoutMs: number;
  /** Monotonic milliseconds. */
  clock: () => number;
}

export const DEFAULT_STREAM_TIMING: StreamTiming = {
  keepaliveMs: 25_000,
  idleTimeoutMs: 120_000,
  clock: () => performance.now(),
};

export interface ProxyStreamOptions {
  upstream: ReadableStream<Uint8Array>;
  /** Aborts the backend request. */
  abort: AbortController;
  shape: AnswerShape;
  rewriter?: AnswerRewriter | undefined;
  meter: UsageMeter;
  timing: StreamTiming;
  /** The first byte went to the client. */
  onFirstByte(): void;
  /** The backend connection failed mid-stream (for the log; the client gets a generic error). */
  onUpstreamError?: (error: unknown) => void;
  /** Called exactly once, when the stream ends for any reason. */
  onEnd(outcome: StreamOutcome): void;
}

const encoder = new TextEncoder();
/** Decodes whole events only (never a part of one), so it keeps no state between calls. */
const decoder = new TextDecoder();
const KEEPALIVE = encoder.encode(encodeComment("keepalive"));
const USAGE = bytesOf(USAGE_MARKER);

export function proxyStream(opts: ProxyStreamOptions): ReadableStream<Uint8Array> {
  return new ProxyStreamSource(opts).stream;
}

/** The state of one client stream; also its own Watch. */
class ProxyStreamSource implements Watch {
  readonly stream: ReadableStream<Uint8Array>;
  readonly #opts: ProxyStreamOptions;
  /** The backend body's reader: BYOB for byte streams (fetch bodies), else the default one. */
  readonly #byob: ReadableStreamBYOBReader | undefined;
  readonly #plain: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Bytes the next BYOB read takes (see readSize). */
  #readSize = STREAM_READ_SIZE;
  readonly #scanner = new SseScanner();
  readonly #ticker: Ticker;
  /** The rewriter's marker as bytes (undefined: every event goes to the rewriter). */
  readonly #marker: Uint8Array | undefined;
  readonly #metered: boolean;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Set by the pump, read and cleared by check(): cheaper than a clock read per chunk. */
  #fromBackend = false;
  #toClient = false;
  #lastFromBackend: number;
  #lastToClient: number;
  /** The client asked for more and the pump is waiting for the backend. */
  #waiting = false;
  #firstByte = false;
  #ended = false;

  constructor(opts: ProxyStreamOptions) {
    this.#opts = opts;
    try {
      this.#byob = opts.upstream.getReader({ mode: "byob" });
    } catch {
      this.#plain = opts.upstream.getReader();
    }
    const marker = opts.rewriter?.marker;
    this.#marker = marker === undefined ? undefined : bytesOf(marker);
    this.#metered = opts.shape !== "count_tokens";
    this.#lastFromBackend = this.#lastToClient = opts.timing.clock();
    this.#ticker = tickerFor(Math.min(opts.timing.keepaliveMs, opts.timing.idleTimeoutMs));
    this.#ticker.add(this);
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => this.#pump(),
      cancel: () => {
        this.#end("client_aborted");
        this.#opts.abort.abort();
        this.#cancelUpstream();
      },
    }, { highWaterMark: 0 });
  }

  check(): void {
    if (this.#ended) return;
    const { timing } = this.#opts;
    const now = timing.clock();
    if (this.#fromBackend) {
      this.#fromBackend = false;
      this.#lastFromBackend = now;
    }
    if (this.#toClient) {
      this.#toClient = false;
      this.#lastToClient = now;
    }
    // Silence only counts while the client is waiting: a client that reads
    // slowly holds the backend back itself.
    if (!this.#waiting) return;
    if (now - this.#lastFromBackend >= timing.idleTimeoutMs) {
      this.#fail(
        "stalled",
        "stream_timeout",
        `The backend sent nothing for ${formatDuration(timing.idleTimeoutMs)}.`,
      );
      return;
    }
    if (now - this.#lastToClient >= timing.keepaliveMs) {
      this.#lastToClient = now;
      // Keepalive only between events: inside a passed-on event it would corrupt it.
      if (this.#opts.rewriter || !this.#scanner.pending) this.#send(KEEPALIVE);
    }
  }

  async #pump(): Promise<void> {
    const rewriter = this.#opts.rewriter;
    const scanner = this.#scanner;
    while (!this.#ended) {
      // A wait that starts now is measured from now, not from the last chunk.
      this.#fromBackend = true;
      this.#waiting = true;
      let result: ReadableStreamReadResult<Uint8Array>;
      const byob = this.#byob;
      try {
        // A fresh buffer per read: its filled view is the chunk the client gets.
        result = byob ? await byob.read(new Uint8Array(this.#readSize)) : await this.#plain!.read();
      } catch (error) {
        this.#waiting = false;
        if (this.#ended) return;
        this.#opts.onUpstreamError?.(error);
        this.#fail("upstream_error", "upstream_error", "The backend stream broke off.");
        return;
      }
      this.#waiting = false;
      if (this.#ended) return;
      if (result.done) {
        this.#finish();
        return;
      }
      this.#fromBackend = true;
      const chunk = result.value;
      if (byob) this.#readSize = readSize(this.#readSize, chunk.length);
      const count = scanner.push(chunk);
      if (!rewriter) {
        this.#send(chunk);
        if (count > 0 && this.#metered) this.#meter(chunk, count);
        return;
      }
      if (count === 0) continue;
      const out = this.#rewrite(rewriter, chunk, count);
      // A translating rewriter may owe nothing for these events: read on.
      if (out === undefined) continue;
      this.#send(out);
      return;
    }
  }

  /** Reads usage from the events that ended in a passed-on chunk (most chunks have none). */
  #meter(chunk: Uint8Array, count: number): void {
    const scanner = this.#scanner;
    if (!scanner.spans(0) && indexOfBytes(chunk, USAGE) < 0) return;
    for (let i = 0; i < count; i++) {
      const start = scanner.startOf(i);
      const end = scanner.ends[i]!;
      if (scanner.spans(i)) {
        const bytes = scanner.event(chunk, i);
        if (indexOfBytes(bytes, USAGE) >= 0) this.#opts.meter.observeRaw(decoder.decode(bytes));
      } else if (indexOfBytes(chunk, USAGE, start, end) >= 0) {
        this.#opts.meter.observeRaw(decoder.decode(chunk.subarray(start, end)));
      }
    }
  }

  /**
   * The bytes owed to the client for the events that ended in `chunk`:
   * events the rewriter leaves alone as they came (a view into the chunk
   * when they are all such), the others rewritten.
   */
  #rewrite(rewriter: AnswerRewriter, chunk: Uint8Array, count: number): Uint8Array | undefined {
    const scanner = this.#scanner;
    const marker = this.#marker;
    const pieces: (Uint8Array | string)[] = [];
    /** A run of untouched events in `chunk`, not yet added to pieces. */
    let runStart = -1;
    let runEnd = -1;
    for (let i = 0; i < count; i++) {
      const start = scanner.startOf(i);
      const end = scanner.ends[i]!;
      const spans = scanner.spans(i);
      const bytes = spans ? scanner.event(chunk, i) : chunk;
      const from = spans ? 0 : start;
      const to = spans ? bytes.length : end;
      const usage = this.#metered && indexOfBytes(bytes, USAGE, from, to) >= 0;
      const touched = marker === undefined || indexOfBytes(bytes, marker, from, to) >= 0;
      let text: string | undefined;
      if (usage || touched) {
        const raw = decoder.decode(bytes.subarray(from, to));
        const event = parseEvent(raw);
        if (usage) this.#opts.meter.observeEvent(event);
        if (touched) text = rewriter.event(event);
      }
      if (text === undefined && !spans) {
        if (runStart < 0) runStart = start;
        runEnd = end;
        continue;
      }
      if (runStart >= 0) {
        pieces.push(chunk.subarray(runStart, runEnd));
        runStart = -1;
      }
      pieces.push(text ?? bytes);
    }
    if (runStart >= 0) pieces.push(chunk.subarray(runStart, runEnd));
    return joinPieces(pieces);
  }

  /** The backend's stream ended: a trailing event without its blank line, and what a rewriter still owes. */
  #finish(): void {
    const { meter, rewriter } = this.#opts;
    const rest = this.#scanner.flush();
    const pieces: (Uint8Array | string)[] = [];
    if (rest !== undefined) {
      const usage = this.#metered && indexOfBytes(rest, USAGE) >= 0;
      if (usage || rewriter) {
        const event = parseEvent(decoder.decode(rest));
        if (usage) meter.observeEvent(event);
        if (rewriter) pieces.push(rewriter.event(event) ?? rest);
      }
    }
    if (rewriter?.end) pieces.push(rewriter.end());
    const out = joinPieces(pieces);
    if (out !== undefined) this.#send(out);
    this.#end("completed");
    this.#controller.close();
  }

  #cancelUpstream(): void {
    (this.#byob ?? this.#plain)!.cancel().catch(() => {});
  }

  #send(bytes: Uint8Array): void {
    this.#controller.enqueue(bytes);
    this.#toClient = true;
    if (!this.#firstByte) {
      this.#firstByte = true;
      this.#opts.onFirstByte();
    }
  }

  #end(outcome: StreamOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#ticker.delete(this);
    this.#opts.onEnd(outcome);
  }

  /** Ends the stream with an error event, or breaks it off when inside a passed-on event. */
  #fail(outcome: StreamOutcome, code: string, message: string): void {
    this.#end(outcome);
    this.#opts.abort.abort();
    this.#cancelUpstream();
    if (!this.#opts.rewriter && this.#scanner.pending) {
      this.#controller.error(new Error(message));
      return;
    }
    const event = this.#opts.rewriter?.fail?.(code, message) ??
      streamErrorEvent(this.#opts.shape, code, message);
    this.#controller.enqueue(encoder.encode(event));
    this.#controller.close();
  }
}

/** One Uint8Array of the pieces (text encoded); undefined when they are empty. */
function joinPieces(pieces: (Uint8Array | string)[]): Uint8Array | undefined {
  if (pieces.length === 1 && typeof pieces[0] !== "string") {
    return pieces[0]!.length === 0 ? undefined : pieces[0];
  }
  const parts = pieces.map((p) => typeof p === "string" ? encoder.encode(p) : p);
  let total = 0;
  for (const p of parts) total += p.length;
  if (total === 0) return undefined;
  return parts.length === 1 ? parts[0] : concatBytes(parts, total);
}

/** Bytes an open stream's first pending read takes (see readSize). */
export const STREAM_READ_SIZE = 2 * 1024;
/** The most a read takes when the backend sends faster than the client reads. */
export const STREAM_READ_MAX = 64 * 1024;

/**
 * The size of the next read of a byte stream, after one that got `got`
 * bytes into `size`. The runtime's default reader would allocate 64 KiB for
 * every read, which an idle open stream holds for its whole life (64 MB for
 * 1000 streams); here a read takes STREAM_READ_SIZE, doubled after a read
 * that filled its buffer (up to STREAM_READ_MAX), halved again after one
 * that used less than a quarter.
 */
function readSize(size: number, got: number): number {
  if (got === size) return Math.min(STREAM_READ_MAX, size * 2);
  if (got * 4 < size && size > STREAM_READ_SIZE) return size / 2;
  return size;
}

/**
 * The chunks of a body that is consumed here (not streamed to the client),
 * giving up with StallError after `idleTimeoutMs` without a byte. The
 * backend request is aborted on a stall and when the caller stops early.
 */
export async function* readChunks(
  body: ReadableStream<Uint8Array> | null,
  abort: AbortController,
  idleTimeoutMs: number,
): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  let stalled = false;
  let finished = false;
  const idle = new IdleTimer(idleTimeoutMs, () => {
    stalled = true;
    abort.abort();
    reader.cancel().catch(() => {});
  });
  try {
    while (true) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        if (stalled) throw new StallError(idleTimeoutMs);
        throw error;
      }
      if (stalled) throw new StallError(idleTimeoutMs);
      if (result.done) {
        finished = true;
        return;
      }
      idle.touch();
      yield result.value;
    }
  } finally {
    idle.stop();
    // A finished body needs nothing more (releasing or cancelling the reader
    // would allocate an error object for nothing).
    if (!finished) {
      abort.abort();
      reader.cancel().catch(() => {});
    }
  }
}

/**
 * A whole non-streamed body as text. The runtime collects it natively (far
 * cheaper than reading chunks in JS); the idle limit then bounds the whole
 * body, which for a JSON answer arrives right after its headers.
 */
export async function readBodyText(
  response: Response,
  abort: AbortController,
  idleTimeoutMs: number,
): Promise<string> {
  let stalled = false;
  const timer = new IdleTimer(idleTimeoutMs, () => {
    stalled = true;
    abort.abort();
  });
  try {
    return await response.text();
  } catch (error) {
    if (stalled) throw new StallError(idleTimeoutMs);
    throw error;
  } finally {
    timer.stop();
  }
}

export class StallError extends Error {
  constructor(idleTimeoutMs: number) {
    super(`The backend sent nothing for ${formatDuration(idleTimeoutMs)}.`);
    this.name = "StallError";
  }
}

/**
 * What the client is told when a body Kleis reads itself (an error answer, a
 * JSON answer, a stream collected into JSON) could not be read. Whether the
 * client left is judged from the client's link (client_link.ts): the backend
 * request's controller is aborted on a stall and whenever reading stops
 * early too, so it cannot tell a client that left from a backend that broke
 * off.
 */
export function readFailure(
  error: unknown,
  provider: ProviderId,
  idleTimeoutMs: number,
  clientGone: boolean,
): KleisError {
  if (error instanceof KleisError) return error;
  if (clientGone) return clientClosed();
  if (error instanceof StallError) return backendTimeout(provider, idleTimeoutMs);
  return backendUnreachable(provider);
}

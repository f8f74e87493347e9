/**
 * The client side of a streamed answer (docs/architecture.md#a-proxied-request-step-by-step).
 *
 * - Each upstream chunk goes out as it arrives. When the answer needs
 *   rewriting, chunks are re-framed into events and each whole event goes out
 *   as soon as its end arrives (at most one event is held); otherwise chunks
 *   pass untouched and a copy is framed only to read token usage.
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
 * Per chunk the pump does one read, one enqueue and the framing: no timer,
 * no clock read, no extra promise. Silence is judged by one interval timer
 * shared by every open stream (see Ticker), which notices traffic through
 * flags the pump sets; keepalives and the stall limit therefore fire up to
 * one tick late, never early.
 */
import type { AnswerRewriter, AnswerShape } from "../providers/proxy_types.ts";
import { encodeComment, parseEvent, SseFramer } from "../sse.ts";
import { streamErrorEvent } from "./stream_errors.ts";
import { KleisError } from "../errors.ts";
import type { ProviderId } from "../model/providers.ts";
import {
  backendTimeout,
  backendUnreachable,
  clientClosed,
  formatDuration,
} from "./proxy_errors.ts";
import type { UsageMeter } from "./usage_extract.ts";

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
const KEEPALIVE = encoder.encode(encodeComment("keepalive"));

/** Something a Ticker looks at on every tick. */
interface Watch {
  check(): void;
}

/**
 * One interval timer for every watch with the same period. A timer per open
 * stream (or per request) costs a timer object, its closure and a timer-heap
 * update for each; the shared one costs a Set entry. The timer stops on the
 * first tick that finds no watch (not at once, so that requests in a row do
 * not start and stop it each time) and is unref'd: it never keeps a process
 * alive on its own.
 */
class Ticker {
  readonly #watches = new Set<Watch>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly periodMs: number) {}

  add(watch: Watch): void {
    this.#watches.add(watch);
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#tick(), this.periodMs);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  delete(watch: Watch): void {
    this.#watches.delete(watch);
  }

  #tick(): void {
    if (this.#watches.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    for (const w of this.#watches) w.check();
  }
}

const tickers = new Map<number, Ticker>();

/** The shared ticker for limits of `shortestMs`: a fifth of it, at least 5 ms, at most 1 s. */
function tickerFor(shortestMs: number): Ticker {
  const period = Math.min(1000, Math.max(5, Math.floor(shortestMs / 5)));
  let ticker = tickers.get(period);
  if (!ticker) tickers.set(period, ticker = new Ticker(period));
  return ticker;
}

export function proxyStream(opts: ProxyStreamOptions): ReadableStream<Uint8Array> {
  return new ProxyStreamSource(opts).stream;
}

/** The state of one client stream; also its own Watch. */
class ProxyStreamSource implements Watch {
  readonly stream: ReadableStream<Uint8Array>;
  readonly #opts: ProxyStreamOptions;
  readonly #reader: ChunkReader;
  readonly #framer = new SseFramer();
  readonly #ticker: Ticker;
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
    this.#reader = smallChunkReader(opts.upstream);
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
        this.#reader.cancel().catch(() => {});
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
      if (this.#opts.rewriter || !this.#framer.pending) this.#send(KEEPALIVE);
    }
  }

  async #pump(): Promise<void> {
    const { meter, rewriter } = this.#opts;
    const framer = this.#framer;
    while (!this.#ended) {
      // A wait that starts now is measured from now, not from the last chunk.
      this.#fromBackend = true;
      this.#waiting = true;
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await this.#reader.read();
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
        let text = "";
        for (const raw of framer.flushRaw()) {
          meter.observeRaw(raw);
          if (rewriter) text += rewriter.event(parseEvent(raw)) ?? raw;
        }
        if (text) this.#send(encoder.encode(text));
        this.#end("completed");
        this.#controller.close();
        return;
      }
      this.#fromBackend = true;
      const chunk = result.value;
      if (!rewriter) {
        this.#send(chunk);
        for (const raw of framer.pushRaw(chunk)) meter.observeRaw(raw);
        return;
      }
      const events = framer.push(chunk);
      if (events.length === 0) continue;
      let text = "";
      for (const event of events) {
        meter.observeEvent(event);
        text += rewriter.event(event) ?? event.raw;
      }
      this.#send(encoder.encode(text));
      return;
    }
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
    this.#reader.cancel().catch(() => {});
    if (!this.#opts.rewriter && this.#framer.pending) {
      this.#controller.error(new Error(message));
      return;
    }
    this.#controller.enqueue(encoder.encode(streamErrorEvent(this.#opts.shape, code, message)));
    this.#controller.close();
  }
}

/** Bytes an open stream keeps for its pending read (see smallChunkReader). */
export const STREAM_READ_SIZE = 8 * 1024;

interface ChunkReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
}

/**
 * Reads a byte stream through one reused STREAM_READ_SIZE buffer. The
 * runtime's default reader allocates 64 KiB for every pending read, which an
 * idle open stream holds for its whole life: 64 MB for 1000 streams. Bodies
 * that are not byte streams fall back to the default reader.
 */
function smallChunkReader(body: ReadableStream<Uint8Array>): ChunkReader {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    return body.getReader();
  }
  let buffer = new Uint8Array(STREAM_READ_SIZE);
  return {
    async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
      const result = await byob.read(buffer);
      const view = result.value;
      if (result.done || view === undefined) {
        return { done: true } as ReadableStreamReadDoneResult<Uint8Array>;
      }
      const copy = view.slice();
      // The buffer was transferred into the view: take it back for the next read.
      buffer = new Uint8Array(view.buffer);
      return { done: false, value: copy };
    },
    cancel: (reason?: unknown) => byob.cancel(reason),
  };
}

/**
 * Calls `onIdle` once `ms` pass without touch(), checked by the shared
 * ticker (up to a fifth of `ms`, at most 1 s, late; never early). A timer of
 * its own per request cost a measurable share of a proxied request.
 */
export class IdleTimer implements Watch {
  #last: number;
  #touched = false;
  #stopped = false;
  readonly #ticker: Ticker;

  constructor(private readonly ms: number, private readonly onIdle: () => void) {
    this.#last = performance.now();
    this.#ticker = tickerFor(ms);
    this.#ticker.add(this);
  }

  /** Cheap enough for every chunk: the ticker reads the clock. */
  touch(): void {
    this.#touched = true;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ticker.delete(this);
  }

  check(): void {
    const now = performance.now();
    if (this.#touched) {
      this.#touched = false;
      this.#last = now;
    } else if (now - this.#last >= this.ms) {
      this.stop();
      this.onIdle();
    }
  }
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
 * client left is judged from the client's own signal: the backend request's
 * controller is aborted on a stall and whenever reading stops early too, so
 * it cannot tell a client that left from a backend that broke off.
 */
export function readFailure(
  error: unknown,
  provider: ProviderId,
  idleTimeoutMs: number,
  client: AbortSignal,
): KleisError {
  if (error instanceof KleisError) return error;
  if (client.aborted) return clientClosed();
  if (error instanceof StallError) return backendTimeout(provider, idleTimeoutMs);
  return backendUnreachable(provider);
}

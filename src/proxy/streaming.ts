/**
 * The client side of a streamed answer (issue 4, item 3; design rule 7).
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
 * One interval timer per stream checks silence (a few times per keepalive
 * period), instead of a timer per chunk.
 */
import type { AnswerRewriter, AnswerShape } from "../providers/proxy_types.ts";
import { encodeComment, SseFramer } from "../sse.ts";
import { streamErrorEvent } from "./stream_errors.ts";
import { formatDuration } from "./proxy_errors.ts";
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
const TICK = Symbol("tick");

export function proxyStream(opts: ProxyStreamOptions): ReadableStream<Uint8Array> {
  const { timing, meter, rewriter } = opts;
  const reader = smallChunkReader(opts.upstream);
  const framer = new SseFramer();
  let pendingRead: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  let lastFromBackend = timing.clock();
  let lastToClient = lastFromBackend;
  let firstByte = false;
  let ended = false;
  let wake: ((value: typeof TICK) => void) | undefined;
  const tickMs = Math.max(5, Math.floor(Math.min(timing.keepaliveMs, timing.idleTimeoutMs) / 5));
  const interval = setInterval(() => {
    if (!wake) return;
    const now = timing.clock();
    if (
      now - lastFromBackend >= timing.idleTimeoutMs || now - lastToClient >= timing.keepaliveMs
    ) {
      const w = wake;
      wake = undefined;
      w(TICK);
    }
  }, tickMs);

  const end = (outcome: StreamOutcome) => {
    if (ended) return;
    ended = true;
    clearInterval(interval);
    wake = undefined;
    opts.onEnd(outcome);
  };

  const send = (controller: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array) => {
    controller.enqueue(bytes);
    lastToClient = timing.clock();
    if (!firstByte) {
      firstByte = true;
      opts.onFirstByte();
    }
  };

  /** Ends the stream with an error event, or breaks it off when inside a passed-on event. */
  const fail = (
    controller: ReadableStreamDefaultController<Uint8Array>,
    outcome: StreamOutcome,
    code: string,
    message: string,
  ) => {
    end(outcome);
    opts.abort.abort();
    reader.cancel().catch(() => {});
    if (!rewriter && framer.pending) {
      controller.error(new Error(message));
      return;
    }
    controller.enqueue(encoder.encode(streamErrorEvent(opts.shape, code, message)));
    controller.close();
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (!ended) {
        pendingRead ??= reader.read();
        let result: ReadableStreamReadResult<Uint8Array> | typeof TICK;
        try {
          result = await Promise.race([
            pendingRead,
            new Promise<typeof TICK>((resolve) => {
              wake = resolve;
            }),
          ]);
        } catch (error) {
          if (ended) return;
          pendingRead = undefined;
          opts.onUpstreamError?.(error);
          fail(controller, "upstream_error", "upstream_error", "The backend stream broke off.");
          return;
        }
        wake = undefined;
        if (ended) return;
        if (result === TICK) {
          const now = timing.clock();
          if (now - lastFromBackend >= timing.idleTimeoutMs) {
            fail(
              controller,
              "stalled",
              "stream_timeout",
              `The backend sent nothing for ${formatDuration(timing.idleTimeoutMs)}.`,
            );
            return;
          }
          // Keepalive only between events: inside a passed-on event it would corrupt it.
          if (rewriter || !framer.pending) {
            send(controller, encoder.encode(encodeComment("keepalive")));
            return;
          }
          lastToClient = now;
          continue;
        }
        pendingRead = undefined;
        if (result.done) {
          const rest = framer.flush();
          if (rewriter && rest.length > 0) {
            let text = "";
            for (const event of rest) {
              meter.observeEvent(event);
              text += rewriter.event(event) ?? event.raw;
            }
            if (text) send(controller, encoder.encode(text));
          } else {
            for (const event of rest) meter.observeEvent(event);
          }
          end("completed");
          controller.close();
          return;
        }
        lastFromBackend = timing.clock();
        const chunk = result.value;
        if (!rewriter) {
          send(controller, chunk);
          for (const event of framer.push(chunk)) meter.observeEvent(event);
          return;
        }
        const events = framer.push(chunk);
        if (events.length === 0) continue;
        let text = "";
        for (const event of events) {
          meter.observeEvent(event);
          text += rewriter.event(event) ?? event.raw;
        }
        send(controller, encoder.encode(text));
        return;
      }
    },
    cancel() {
      end("client_aborted");
      opts.abort.abort();
      reader.cancel().catch(() => {});
    },
  }, { highWaterMark: 0 });
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
export function smallChunkReader(body: ReadableStream<Uint8Array>): ChunkReader {
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
 * Calls `onIdle` once `ms` pass without touch(). One timer, rescheduled only
 * when it fires early, instead of a timer per chunk.
 */
export class IdleTimer {
  #last: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ms: number, private readonly onIdle: () => void) {
    this.#last = performance.now();
    this.#arm(ms);
  }

  touch(): void {
    this.#last = performance.now();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => {
      const left = this.#last + this.ms - performance.now();
      if (left > 0) this.#arm(left);
      else {
        this.#timer = undefined;
        this.onIdle();
      }
    }, delay);
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

/**
 * Controls shared by the fakes that sit behind the proxy (anthropic, chatgpt,
 * copilot): canned failures, stalls, broken streams, chunkings, cancellation.
 */
import {
  FakeServer,
  type Handler,
  json,
  type LazySignal,
  type RecordedRequest,
  sleep,
} from "./server.ts";
import { chunkedBody, chunkEvents, type Chunking, type SseEvent } from "./sse.ts";

export interface FailSpec {
  status: number;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** How many of the next matching requests fail this way (default 1). */
  count?: number;
}

export type FailPredicate = (req: RecordedRequest) => FailSpec | Response | undefined;

/** A tool call a fake makes: the tool's name as the backend sees it, and its arguments. */
export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
}

/** Token usage a fake reports; unset fields are estimated from the request. */
export interface UsageOverride {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
  reasoning_tokens?: number;
}

export function failResponse(spec: FailSpec): Response {
  const headers = new Headers(spec.headers);
  const body = spec.body === undefined
    ? ""
    : typeof spec.body === "string"
    ? spec.body
    : JSON.stringify(spec.body);
  if (!headers.has("content-type") && typeof spec.body !== "string") {
    headers.set("content-type", "application/json");
  }
  return new Response(body, { status: spec.status, headers });
}

export abstract class ProxyBackendFake extends FakeServer {
  /** Framing of the next streams (persistent until changed). */
  chunking: Chunking = "normal";
  /** Seed of the PRNG used by the `split` and `mixed` chunkings. */
  seed = 1;
  /** Streams (or stalled requests) the client abandoned before they finished. */
  cancelled = 0;
  /** Text of the assistant's answer. */
  reply = "";
  usage: UsageOverride = {};
  /** The tool a reply calls when asked to "use tool" (else the request's first tool). */
  toolCall: ToolCall | undefined;
  /** Paths that the shared controls apply to (the model endpoints). */
  protected abstract readonly proxiedPaths: readonly string[];
  #fails: FailSpec[] = [];
  #predicates: FailPredicate[] = [];
  #stallNext: number[] = [];
  #stallMid: number | undefined;
  #resetMid = false;
  #lingerMs = 0;
  #cancelWaiters: (() => void)[] = [];

  setReply(text: string): void {
    this.reply = text;
  }

  setChunking(chunking: Chunking, seed = this.seed): void {
    this.chunking = chunking;
    this.seed = seed;
  }

  /** Replies that call a tool call `call.name` (the name the backend sees) with `call.input`. */
  setToolCall(call: ToolCall | undefined): void {
    this.toolCall = call;
  }

  setUsage(usage: UsageOverride): void {
    this.usage = usage;
  }

  /** The next `count` (default 1) model requests answer this instead. */
  failNext(spec: FailSpec): void {
    this.#fails.push({ ...spec, count: spec.count ?? 1 });
  }

  /** Every model request is offered to `predicate`; a result replaces the answer. */
  failWhen(predicate: FailPredicate): () => void {
    this.#predicates.push(predicate);
    return () => {
      this.#predicates = this.#predicates.filter((p) => p !== predicate);
    };
  }

  /** The next model request waits `ms` before any answer (headers included). */
  stallNext(ms: number): void {
    this.#stallNext.push(ms);
  }

  /** The next stream sends half its chunks, then goes silent for `ms`, then finishes. */
  stallMidStream(ms: number): void {
    this.#stallMid = ms;
  }

  /**
   * Streams wait `ms` after their last event before they end, as a backend
   * still finishing its request does: a client that stops reading at the
   * final event then cancels the stream (bodyEnd "cancelled"). Persistent.
   */
  setLinger(ms: number): void {
    this.#lingerMs = ms;
  }

  /** Resolves once every answer to a model request has ended (see RecordedRequest.bodyEnd). */
  async waitForBodyEnds(timeoutMs = 5_000): Promise<RecordedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const proxied = this.requests.filter((r) => this.proxiedPaths.includes(r.path));
      if (proxied.every((r) => r.bodyEnd !== undefined)) return proxied;
      if (Date.now() > deadline) {
        throw new Error(`Answers still open after ${timeoutMs} ms.`);
      }
      await sleep(10);
    }
  }

  /** The next stream sends half its chunks, then the connection is aborted. */
  resetMidStream(): void {
    this.#resetMid = true;
  }

  /** Resolves at the next cancellation (or at once if one happened since the last wait). */
  waitForCancel(timeoutMs = 2000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#cancelWaiters = this.#cancelWaiters.filter((w) => w !== done);
        reject(new Error(`No cancellation seen within ${timeoutMs} ms.`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      if (this.#pendingCancels > 0) {
        this.#pendingCancels--;
        return done();
      }
      this.#cancelWaiters.push(done);
    });
  }

  #pendingCancels = 0;

  protected noteCancel(): void {
    this.cancelled++;
    const waiter = this.#cancelWaiters.shift();
    if (waiter) waiter();
    else this.#pendingCancels++;
  }

  /** Forgets one-shot controls, predicates and the log; keeps reply and chunking. */
  resetControls(): void {
    this.#fails = [];
    this.#predicates = [];
    this.#stallNext = [];
    this.#stallMid = undefined;
    this.#resetMid = false;
    this.cancelled = 0;
    this.#pendingCancels = 0;
  }

  /** Extra headers on every answer (rate-limit headers, cookies); canned ones win. */
  protected commonHeaders(_req: RecordedRequest): Record<string, string> {
    return {};
  }

  protected abstract handle(
    req: RecordedRequest,
    signal: LazySignal,
  ): Promise<Response> | Response;

  protected start(): Promise<void> {
    const handler: Handler = async (req, signal) => {
      const res = await this.#route(req, signal);
      const headers = new Headers(res.headers);
      for (const [k, v] of Object.entries(this.commonHeaders(req))) {
        if (!headers.has(k)) headers.append(k, v);
      }
      const body = watchedBody(res.body, (end) => req.bodyEnd = end);
      return new Response(body, { status: res.status, headers });
    };
    return this.listen(handler);
  }

  async #route(req: RecordedRequest, signal: LazySignal): Promise<Response> {
    if (!this.proxiedPaths.includes(req.path)) return await this.handle(req, signal);
    const stall = this.#stallNext.shift();
    if (stall !== undefined) {
      const aborted = await sleep(stall, signal(), this.closers);
      if (aborted) {
        if (signal().aborted) this.noteCancel();
        return new Response(null, { status: 499 });
      }
    }
    return this.#canned(req) ?? await this.handle(req, signal);
  }

  #canned(req: RecordedRequest): Response | undefined {
    for (const predicate of this.#predicates) {
      const out = predicate(req);
      if (out instanceof Response) return out;
      if (out) return failResponse(out);
    }
    const fail = this.#fails[0];
    if (!fail) return undefined;
    fail.count = (fail.count ?? 1) - 1;
    if (fail.count <= 0) this.#fails.shift();
    return failResponse(fail);
  }

  /** An SSE answer in the current chunking, applying the one-shot stream controls. */
  protected sse(
    events: SseEvent[],
    headers: Record<string, string> = {},
    omitContentType = false,
  ): Response {
    const body = chunkedBody(chunkEvents(events, this.chunking, this.seed), {
      ...(this.#stallMid === undefined ? {} : { stallMidStreamMs: this.#stallMid }),
      resetMidStream: this.#resetMid,
      lingerMs: this.#lingerMs,
      onCancel: () => this.noteCancel(),
      closers: this.closers,
    });
    this.#stallMid = undefined;
    this.#resetMid = false;
    const h = new Headers(headers);
    if (!omitContentType) h.set("content-type", "text/event-stream; charset=utf-8");
    h.set("cache-control", "no-cache");
    return new Response(body, { status: 200, headers: h });
  }

  protected json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
    return json(body, status, headers);
  }
}

/** Passes a body on chunk by chunk and reports how it ended. */
function watchedBody(
  body: ReadableStream<Uint8Array> | null,
  onEnd: (end: "completed" | "cancelled" | "errored") => void,
): ReadableStream<Uint8Array> | null {
  if (!body) {
    onEnd("completed");
    return null;
  }
  const reader = body.getReader();
  // The first outcome stands: a cancel also ends the pending read as "done".
  let ended = false;
  const end = (outcome: "completed" | "cancelled" | "errored") => {
    if (!ended) onEnd(outcome);
    ended = true;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        end("errored");
        controller.error(error);
        return;
      }
      if (result.done) {
        end("completed");
        controller.close();
      } else {
        controller.enqueue(result.value);
      }
    },
    async cancel(reason) {
      end("cancelled");
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** A rough token estimate: 4 characters a token. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Splits a text into a few deltas (words with their following spaces). */
export function deltas(text: string): string[] {
  const parts = text.match(/\S+\s*|\s+/g) ?? [];
  return parts.length > 0 ? parts : [""];
}

/** `{...}` arguments for the first tool: each schema property gets a sample value. */
export function sampleArguments(schema: unknown): Record<string, unknown> {
  const props = schema && typeof schema === "object"
    ? (schema as { properties?: Record<string, { type?: string }> }).properties
    : undefined;
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(props ?? {})) {
    out[name] = prop?.type === "number" || prop?.type === "integer"
      ? 1
      : prop?.type === "boolean"
      ? true
      : "fake";
  }
  if (Object.keys(out).length === 0) out["input"] = "fake";
  return out;
}

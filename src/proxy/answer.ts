/**
 * Turns a successful backend answer into the client's answer, in one of
 * three ways:
 *
 * - stream → stream: passed on chunk by chunk (re-framed only when the
 *   adapter rewrites events), see streaming.ts;
 * - stream → JSON: the client asked for JSON but the backend always streams
 *   (Codex): events are read until the adapter names the final answer;
 * - JSON → JSON: read whole, usage read, rewritten only when the adapter
 *   changes something (otherwise the backend's text goes out as it came).
 */
import type { AnswerShape, PreparedCall } from "../providers/proxy_types.ts";
import type { ProviderId } from "../model/providers.ts";
import type { Logger } from "../log.ts";
import { SseFramer } from "../sse.ts";
import { KleisError } from "../errors.ts";
import { PROVIDER_NAMES } from "./proxy_errors.ts";
import { clientResponseHeaders } from "./response_headers.ts";
import type { ClientLink } from "./client_link.ts";
import {
  proxyStream,
  readBodyText,
  readChunks,
  readFailure,
  type StreamTiming,
} from "./streaming.ts";
import { USAGE_MARKER, UsageMeter } from "./usage_extract.ts";
import { drainRest } from "../body_drain.ts";
import { CLIENT_CLOSED_STATUS, type RequestTracker } from "./usage_tracker.ts";

export interface AnswerInput {
  response: Response;
  abort: AbortController;
  /** Whether the client is still there. */
  link: ClientLink;
  call: PreparedCall;
  shape: AnswerShape;
  account: string;
  requestId: string;
  tracker: RequestTracker;
  timing: StreamTiming;
  provider: ProviderId;
  log: Logger;
}

const SSE_TYPE = "text/event-stream; charset=utf-8";
const JSON_TYPE = "application/json";

export async function buildAnswer(input: AnswerInput): Promise<Response> {
  const { response, call } = input;
  const contentType = response.headers.get("content-type") ?? "";
  // The Codex backend sometimes omits the content type of its stream.
  const upstreamStreams = contentType.includes("text/event-stream") ||
    (contentType === "" && (call.clientStream || call.collect !== undefined));
  if (upstreamStreams && call.clientStream) return streamAnswer(input, contentType);
  if (upstreamStreams && call.collect) return await collectAnswer(input);
  return await jsonAnswer(input);
}

function streamAnswer(input: AnswerInput, contentType: string): Response {
  // Closures below live as long as the stream: they capture only what they
  // need, never the request (whose body can be large).
  const { tracker, log, shape } = input;
  const status = input.response.status;
  const meter = new UsageMeter(shape);
  const body = proxyStream({
    upstream: input.response.body ?? new ReadableStream({ start: (c) => c.close() }),
    abort: input.abort,
    shape,
    rewriter: input.call.rewriter,
    meter,
    timing: input.timing,
    onFirstByte: () => tracker.firstByte(),
    onUpstreamError: (error) => log.warn("Backend stream broke off.", { error }),
    onEnd: (outcome) => {
      if (outcome === "completed") tracker.finish(status, "none", meter.usage);
      else if (outcome === "client_aborted") {
        tracker.finish(CLIENT_CLOSED_STATUS, "none", meter.usage);
      } else if (outcome === "stalled") tracker.finish(504, "backend", meter.usage);
      else tracker.finish(502, "backend", meter.usage);
    },
  });
  const headers = clientResponseHeaders(input.response.headers, {
    account: input.account,
    requestId: input.requestId,
    ...(contentType.includes("text/event-stream") ? {} : { contentType: SSE_TYPE }),
  });
  headers.set("cache-control", "no-cache");
  return new Response(body, { status, headers });
}

function failure(input: AnswerInput, error: unknown): KleisError {
  return readFailure(error, input.provider, input.timing.idleTimeoutMs, input.link.gone);
}

async function collectAnswer(input: AnswerInput): Promise<Response> {
  const { response, call, tracker } = input;
  const meter = new UsageMeter(input.shape);
  const framer = new SseFramer();
  let answer: { status: number; body: unknown } | undefined;
  const chunks = readChunks(response.body, input.abort, input.timing.idleTimeoutMs);
  try {
    while (!answer) {
      const next = await chunks.next();
      if (next.done) break;
      for (const event of framer.push(next.value)) {
        meter.observeEvent(event);
        answer ??= call.collect!(event);
      }
    }
    if (answer) {
      // The final event came before the body's end: read the rest in the
      // background (the client need not wait), so the backend sees its
      // answer read to the end rather than a client that went away.
      void drainRest(chunks, input.abort);
    } else {
      for (const event of framer.flush()) {
        meter.observeEvent(event);
        answer ??= call.collect!(event);
      }
    }
  } catch (error) {
    throw failure(input, error);
  }
  if (!answer) {
    throw new KleisError(
      502,
      "incomplete_response",
      `The ${PROVIDER_NAMES[input.provider]} backend ended its stream without a final response.`,
    );
  }
  tracker.firstByte();
  tracker.finish(answer.status, answer.status < 400 ? "none" : "backend", meter.usage);
  return new Response(JSON.stringify(answer.body), {
    status: answer.status,
    headers: clientResponseHeaders(response.headers, {
      account: input.account,
      requestId: input.requestId,
      contentType: JSON_TYPE,
    }),
  });
}

async function jsonAnswer(input: AnswerInput): Promise<Response> {
  const { response, call, tracker } = input;
  const meter = new UsageMeter(input.shape);
  let text: string;
  try {
    text = await readBodyText(response, input.abort, input.timing.idleTimeoutMs);
  } catch (error) {
    throw failure(input, error);
  }
  const wantsUsage = input.shape !== "count_tokens" && text.includes(USAGE_MARKER);
  if (wantsUsage || call.rewriter) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) {
      meter.observeJson(parsed);
      const rewritten = call.rewriter?.json(parsed);
      if (rewritten !== undefined) text = JSON.stringify(rewritten);
    }
  }
  tracker.firstByte();
  tracker.finish(response.status, "none", meter.usage);
  return new Response(text, {
    status: response.status,
    headers: clientResponseHeaders(response.headers, {
      account: input.account,
      requestId: input.requestId,
    }),
  });
}

/**
 * One translated call: the client's body read into neutral form and written
 * in the backend's API, and the wrapper that turns the backend's answer
 * (after the adapter's own rewrites, such as Claude tool names) into the
 * client's API — JSON, a stream collected into JSON, or a stream event by
 * event as each source event arrives.
 */
import type { CollectedAnswer, PreparedCall } from "../providers/proxy_types.ts";
import { parseEvent, type SseEvent } from "../sse.ts";
import type {
  NeutralAnswer,
  NeutralEvent,
  NeutralRequest,
  ReasoningEffort,
  StreamDecoder,
  StreamEncoder,
} from "./neutral.ts";
import { readChatRequest } from "./chat/request_read.ts";
import { writeChatRequest } from "./chat/request_write.ts";
import { ChatStreamDecoder, readChatAnswer } from "./chat/answer_read.ts";
import { ChatStreamEncoder, writeChatAnswer } from "./chat/answer_write.ts";
import { readResponsesRequest } from "./responses/request_read.ts";
import { writeResponsesRequest } from "./responses/request_write.ts";
import { readResponsesAnswer, ResponsesStreamDecoder } from "./responses/answer_read.ts";
import { ResponsesStreamEncoder, writeResponsesAnswer } from "./responses/answer_write.ts";
import { readMessagesRequest } from "./messages/request_read.ts";
import { JSON_ANSWER_TOOL, writeMessagesRequest } from "./messages/request_write.ts";
import { MessagesStreamDecoder, readMessagesAnswer } from "./messages/answer_read.ts";
import { MessagesStreamEncoder, writeMessagesAnswer } from "./messages/answer_write.ts";
import { type EventFilter, JsonToolFilter, StopFilter } from "./transforms.ts";
import { isObject, type JsonObject } from "./util.ts";

/** The three API shapes Kleis speaks. */
export type ApiShape = "chat" | "responses" | "messages";

export const API_ENDPOINT: Record<ApiShape, string> = {
  chat: "/chat/completions",
  responses: "/responses",
  messages: "/messages",
};

const READ_REQUEST: Record<ApiShape, (body: JsonObject) => NeutralRequest> = {
  chat: readChatRequest,
  responses: readResponsesRequest,
  messages: readMessagesRequest,
};

const READ_ANSWER: Record<ApiShape, (body: JsonObject) => NeutralAnswer> = {
  chat: readChatAnswer,
  responses: readResponsesAnswer,
  messages: readMessagesAnswer,
};

const WRITE_ANSWER: Record<ApiShape, (answer: NeutralAnswer, model: string) => JsonObject> = {
  chat: writeChatAnswer,
  responses: writeResponsesAnswer,
  messages: writeMessagesAnswer,
};

const DECODER: Record<ApiShape, () => StreamDecoder> = {
  chat: () => new ChatStreamDecoder(),
  responses: () => new ResponsesStreamDecoder(),
  messages: () => new MessagesStreamDecoder(),
};

const ENCODER: Record<ApiShape, (model: string, includeUsage: boolean) => StreamEncoder> = {
  chat: (model, includeUsage) => new ChatStreamEncoder(model, includeUsage),
  responses: (model) => new ResponsesStreamEncoder(model),
  messages: (model) => new MessagesStreamEncoder(model),
};

export interface TranslationOptions {
  client: ApiShape;
  backend: ApiShape;
  /** The model as the backend knows it. */
  model: string;
  /** The model as the client named it (echoed in answers). */
  clientModel: string;
  /** The model's output limit, when known (max_tokens default and cap on Messages backends). */
  outputLimit?: number;
  /** An effort the model id named (a suffix); it replaces the body's own. */
  reasoningEffort?: ReasoningEffort;
}

export class Translation {
  readonly request: NeutralRequest;
  /** The body in the backend's API, before the adapter's own rewrites. */
  readonly body: JsonObject;
  readonly #filters: () => EventFilter[];

  constructor(readonly opts: TranslationOptions, clientBody: JsonObject) {
    this.request = READ_REQUEST[opts.client](clientBody);
    const req = this.request;
    if (opts.reasoningEffort !== undefined) req.reasoningEffort = opts.reasoningEffort;
    this.body = opts.backend === "chat"
      ? writeChatRequest(req, opts.model)
      : opts.backend === "responses"
      ? writeResponsesRequest(req, opts.model)
      : writeMessagesRequest(req, opts.model, opts.outputLimit);
    const stops = opts.backend === "responses" && req.stop?.length ? req.stop : undefined;
    const jsonTool = opts.backend === "messages" && req.responseFormat?.type === "json_schema";
    this.#filters = () => [
      ...(jsonTool ? [new JsonToolFilter(JSON_ANSWER_TOOL)] : []),
      ...(stops ? [new StopFilter(stops)] : []),
    ];
  }

  #answer(body: unknown): JsonObject | undefined {
    if (!isObject(body)) return undefined;
    let answer = READ_ANSWER[this.opts.backend](body);
    for (const filter of this.#filters()) answer = filter.answer(answer);
    return WRITE_ANSWER[this.opts.client](answer, this.opts.clientModel);
  }

  /** The adapter's prepared call with the answer translated for the client. */
  adapt(call: PreparedCall): PreparedCall {
    const inner = call.rewriter;
    const decoder = DECODER[this.opts.backend]();
    const encoder = ENCODER[this.opts.client](this.opts.clientModel, this.request.includeUsage);
    const filters = this.#filters();
    const write = (events: NeutralEvent[]): string => {
      let text = "";
      for (const event of events) {
        if (filters.length === 0) {
          text += encoder.push(event);
          continue;
        }
        let batch = [event];
        for (const filter of filters) batch = batch.flatMap((e) => filter.push(e));
        for (const e of batch) text += encoder.push(e);
      }
      return text;
    };
    const collect = call.collect;
    return {
      ...call,
      rewriter: {
        event: (event: SseEvent) => {
          const rewritten = inner?.event(event);
          const e = rewritten === undefined ? event : parseEvent(rewritten);
          return write(decoder.push(e.data, e.event));
        },
        json: (body: unknown) => this.#answer(inner?.json(body) ?? body),
        end: () => write(decoder.end()) + encoder.end(),
        fail: (code: string, message: string) => encoder.fail(code, message),
      },
      ...(collect === undefined ? {} : {
        collect: (event: SseEvent): CollectedAnswer | undefined => {
          const got = collect(event);
          if (!got || got.status >= 400) return got;
          return { status: got.status, body: this.#answer(got.body) ?? got.body };
        },
      }),
    };
  }
}

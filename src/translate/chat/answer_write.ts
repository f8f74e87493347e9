/**
 * The neutral answer written for a Chat Completions client: a
 * `chat.completion` object, or `chat.completion.chunk` events with
 * incremental tool-call arguments, reasoning as `reasoning_content` deltas
 * (what OpenAI-compatible clients read), a usage chunk when asked for, then
 * `data: [DONE]`.
 */
import { encodeEvent } from "../../sse.ts";
import { CUT_SHORT } from "../neutral.ts";
import type { NeutralAnswer, NeutralEvent, NeutralUsage, StreamEncoder } from "../neutral.ts";
import type { JsonObject } from "../util.ts";

export function chatUsageOut(u: NeutralUsage): JsonObject {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cacheRead },
    completion_tokens_details: { reasoning_tokens: u.reasoning },
  };
}

export function writeChatAnswer(a: NeutralAnswer, model: string): JsonObject {
  const message: JsonObject = {
    role: "assistant",
    content: a.text === "" && (a.toolCalls.length > 0 || a.refusal !== "") ? null : a.text,
    refusal: a.refusal === "" ? null : a.refusal,
  };
  if (a.reasoning !== "") message["reasoning_content"] = a.reasoning;
  if (a.toolCalls.length > 0) {
    message["tool_calls"] = a.toolCalls.map((c) => ({
      id: c.id,
      type: "function",
      function: { name: c.name, arguments: c.arguments },
    }));
  }
  const out: JsonObject = {
    id: a.id,
    object: "chat.completion",
    created: a.created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: a.finish }],
  };
  if (a.usage) out["usage"] = chatUsageOut(a.usage);
  return out;
}

export class ChatStreamEncoder implements StreamEncoder {
  #id = "chatcmpl-kleis";
  #created = Math.floor(Date.now() / 1000);
  #usage: NeutralUsage | undefined;
  #done = false;

  constructor(private readonly model: string, private readonly includeUsage: boolean) {}

  /** The JSON text every chunk starts with, up to its delta (built once per stream, after start). */
  #prefix: string | undefined;

  /**
   * One chunk, written as text around the delta's JSON: the fixed part of a
   * chunk is the same for every event of a stream (and JSON has no newline
   * that encodeEvent would need to split).
   */
  #chunk(delta: JsonObject, finish: string | null = null): string {
    this.#prefix ??= `data: {"id":${JSON.stringify(this.#id)},"object":"chat.completion.chunk",` +
      `"created":${this.#created},"model":${JSON.stringify(this.model)},` +
      `"choices":[{"index":0,"delta":`;
    return `${this.#prefix}${JSON.stringify(delta)},"logprobs":null,"finish_reason":${
      finish === null ? "null" : JSON.stringify(finish)
    }}]}\n\n`;
  }

  push(e: NeutralEvent): string {
    if (this.#done) return "";
    switch (e.type) {
      case "start":
        this.#id = e.id.startsWith("chatcmpl") ? e.id : `chatcmpl-${e.id}`;
        this.#created = e.created;
        return this.#chunk({ role: "assistant", content: "" });
      case "text":
        return this.#chunk({ content: e.delta });
      case "reasoning":
        return this.#chunk({ reasoning_content: e.delta });
      case "refusal":
        return this.#chunk({ refusal: e.delta });
      case "tool_start":
        return this.#chunk({
          tool_calls: [{
            index: e.index,
            id: e.id,
            type: "function",
            function: { name: e.name, arguments: "" },
          }],
        });
      case "tool_args":
        return this.#chunk({ tool_calls: [{ index: e.index, function: { arguments: e.delta } }] });
      case "usage":
        this.#usage = e.usage;
        return "";
      case "finish": {
        // Finish comes last from every decoder, after the usage.
        this.#done = true;
        let out = this.#chunk({}, e.finish);
        if (this.includeUsage && this.#usage) {
          out += encodeEvent(JSON.stringify({
            id: this.#id,
            object: "chat.completion.chunk",
            created: this.#created,
            model: this.model,
            choices: [],
            usage: chatUsageOut(this.#usage),
          }));
        }
        return out + "data: [DONE]\n\n";
      }
      case "error":
        this.#done = true;
        return encodeEvent(
          JSON.stringify({ error: { message: e.message, type: e.errorType, code: null } }),
        );
    }
  }

  /** A stream that ended without its finish is cut short: the client is told. */
  end(): string {
    return this.fail(CUT_SHORT.code, CUT_SHORT.message);
  }

  fail(code: string, message: string): string {
    if (this.#done) return "";
    this.#done = true;
    return encodeEvent(JSON.stringify({ error: { message, type: "api_error", code } }));
  }
}

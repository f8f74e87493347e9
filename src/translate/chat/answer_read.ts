/** A Chat Completions answer (Copilot's chat endpoint), JSON or stream, read into neutral form. */
import type {
  FinishReason,
  NeutralAnswer,
  NeutralEvent,
  NeutralUsage,
  StreamDecoder,
  ToolCall,
} from "../neutral.ts";
import { arr, count, type JsonObject, newId, num, obj, str } from "../util.ts";
import { parseJsonObject } from "../../json.ts";

export function chatFinish(reason: unknown, hasTools: boolean): FinishReason {
  if (reason === "length") return "length";
  if (reason === "content_filter") return "content_filter";
  if (reason === "tool_calls" || reason === "function_call") return "tool_calls";
  return hasTools ? "tool_calls" : "stop";
}

export function chatUsage(usage: JsonObject | undefined): NeutralUsage | undefined {
  if (!usage) return undefined;
  return {
    input: count(usage["prompt_tokens"]),
    cacheRead: count(obj(usage["prompt_tokens_details"])?.["cached_tokens"]),
    cacheWrite: 0,
    output: count(usage["completion_tokens"]),
    reasoning: count(obj(usage["completion_tokens_details"])?.["reasoning_tokens"]),
  };
}

/** Reasoning text as OpenAI-compatible servers send it (`reasoning_content`, or Copilot's `reasoning_text`). */
const reasoningOf = (m: JsonObject | undefined) =>
  str(m?.["reasoning_content"]) ?? str(m?.["reasoning_text"]);

export function readChatAnswer(body: JsonObject): NeutralAnswer {
  const choice = obj(arr(body["choices"])[0]);
  const message = obj(choice?.["message"]);
  const toolCalls: ToolCall[] = [];
  for (const raw of arr(message?.["tool_calls"])) {
    const call = obj(raw);
    const fn = obj(call?.["function"]);
    toolCalls.push({
      id: str(call?.["id"]) ?? newId("call_"),
      name: str(fn?.["name"]) ?? "",
      arguments: str(fn?.["arguments"]) ?? "",
    });
  }
  const usage = chatUsage(obj(body["usage"]));
  return {
    id: str(body["id"]) ?? newId("chatcmpl-"),
    model: str(body["model"]) ?? "",
    created: num(body["created"]) ?? Math.floor(Date.now() / 1000),
    text: str(message?.["content"]) ?? "",
    reasoning: reasoningOf(message) ?? "",
    refusal: str(message?.["refusal"]) ?? "",
    toolCalls,
    finish: chatFinish(choice?.["finish_reason"], toolCalls.length > 0),
    ...(usage ? { usage } : {}),
  };
}

/** Chat chunks → neutral events. Tool calls are numbered by their `index`, in order of appearance. */
export class ChatStreamDecoder implements StreamDecoder {
  #started = false;
  #finish: unknown = undefined;
  #finished = false;
  #tools = new Map<number, number>();

  push(data: string | null): NeutralEvent[] {
    if (data === null || this.#finished) return [];
    if (data.trim() === "[DONE]") return this.#end();
    const chunk = parseJsonObject(data);
    if (!chunk) return [];
    const out: NeutralEvent[] = [];
    const error = obj(chunk["error"]);
    if (error) {
      this.#finished = true;
      return [{
        type: "error",
        status: 502,
        errorType: str(error["type"]) ?? "api_error",
        message: str(error["message"]) ?? "The backend failed.",
      }];
    }
    if (!this.#started) {
      this.#started = true;
      out.push({
        type: "start",
        id: str(chunk["id"]) ?? newId("chatcmpl-"),
        model: str(chunk["model"]) ?? "",
        created: num(chunk["created"]) ?? Math.floor(Date.now() / 1000),
      });
    }
    for (const rawChoice of arr(chunk["choices"])) {
      const choice = obj(rawChoice);
      const delta = obj(choice?.["delta"]);
      const reasoning = reasoningOf(delta);
      if (reasoning) out.push({ type: "reasoning", delta: reasoning });
      const content = str(delta?.["content"]);
      if (content) out.push({ type: "text", delta: content });
      const refusal = str(delta?.["refusal"]);
      if (refusal) out.push({ type: "refusal", delta: refusal });
      for (const rawCall of arr(delta?.["tool_calls"])) {
        const call = obj(rawCall);
        const fn = obj(call?.["function"]);
        const at = num(call?.["index"]) ?? 0;
        let index = this.#tools.get(at);
        if (index === undefined) {
          index = this.#tools.size;
          this.#tools.set(at, index);
          out.push({
            type: "tool_start",
            index,
            id: str(call?.["id"]) ?? newId("call_"),
            name: str(fn?.["name"]) ?? "",
          });
        }
        const args = str(fn?.["arguments"]);
        if (args) out.push({ type: "tool_args", index, delta: args });
      }
      if (choice?.["finish_reason"] !== null && choice?.["finish_reason"] !== undefined) {
        this.#finish = choice["finish_reason"];
      }
    }
    const usage = chatUsage(obj(chunk["usage"]));
    if (usage) out.push({ type: "usage", usage });
    return out;
  }

  #end(): NeutralEvent[] {
    if (this.#finished) return [];
    this.#finished = true;
    return [{ type: "finish", finish: chatFinish(this.#finish, this.#tools.size > 0) }];
  }

  /** A stream that ended without `[DONE]` still finishes when a finish reason was seen. */
  end(): NeutralEvent[] {
    return this.#finish === undefined ? [] : this.#end();
  }
}

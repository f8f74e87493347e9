/** An Anthropic Messages answer (Claude, Copilot), JSON or stream, read into neutral form. */
import { parseJsonObject } from "../../json.ts";
import { EMPTY_USAGE } from "../neutral.ts";
import type {
  FinishReason,
  NeutralAnswer,
  NeutralEvent,
  NeutralUsage,
  StreamDecoder,
  ToolCall,
} from "../neutral.ts";
import { arr, count, type JsonObject, newId, obj, str } from "../util.ts";

export function messagesFinish(reason: unknown): FinishReason {
  if (reason === "max_tokens" || reason === "model_context_window_exceeded") return "length";
  if (reason === "tool_use") return "tool_calls";
  if (reason === "refusal") return "content_filter";
  return "stop";
}

/** Anthropic's input_tokens exclude cache reads and writes; neutral input counts them. */
function addUsage(into: NeutralUsage, usage: JsonObject | undefined): void {
  if (!usage) return;
  const has = (k: string) => typeof usage[k] === "number";
  if (has("cache_read_input_tokens")) into.cacheRead = count(usage["cache_read_input_tokens"]);
  if (has("cache_creation_input_tokens")) {
    into.cacheWrite = count(usage["cache_creation_input_tokens"]);
  }
  if (has("input_tokens")) into.input = count(usage["input_tokens"]);
  if (has("output_tokens")) into.output = count(usage["output_tokens"]);
}

const total = (u: NeutralUsage): NeutralUsage => ({
  ...u,
  input: u.input + u.cacheRead + u.cacheWrite,
});

export function readMessagesAnswer(body: JsonObject): NeutralAnswer {
  let text = "";
  let reasoning = "";
  const toolCalls: ToolCall[] = [];
  for (const raw of arr(body["content"])) {
    const block = obj(raw);
    if (block?.["type"] === "text") text += str(block["text"]) ?? "";
    else if (block?.["type"] === "thinking") reasoning += str(block["thinking"]) ?? "";
    else if (block?.["type"] === "tool_use") {
      toolCalls.push({
        id: str(block["id"]) ?? newId("toolu_"),
        name: str(block["name"]) ?? "",
        arguments: JSON.stringify(block["input"] ?? {}),
      });
    }
  }
  const usage = { ...EMPTY_USAGE };
  addUsage(usage, obj(body["usage"]));
  const finish = messagesFinish(body["stop_reason"]);
  return {
    id: str(body["id"]) ?? newId("msg_"),
    model: str(body["model"]) ?? "",
    created: Math.floor(Date.now() / 1000),
    text,
    reasoning,
    refusal: "",
    toolCalls,
    finish,
    ...(obj(body["usage"]) ? { usage: total(usage) } : {}),
  };
}

/** Messages events → neutral events; tool_use blocks are numbered in order of appearance. */
export class MessagesStreamDecoder implements StreamDecoder {
  #finished = false;
  #usage: NeutralUsage = { ...EMPTY_USAGE };
  #stop: unknown = undefined;
  /** content block index → tool index */
  #tools = new Map<number, number>();

  push(data: string | null): NeutralEvent[] {
    if (data === null || this.#finished) return [];
    const e = parseJsonObject(data);
    if (!e) return [];
    switch (e["type"]) {
      case "message_start": {
        const message = obj(e["message"]);
        addUsage(this.#usage, obj(message?.["usage"]));
        return [{
          type: "start",
          id: str(message?.["id"]) ?? newId("msg_"),
          model: str(message?.["model"]) ?? "",
          created: Math.floor(Date.now() / 1000),
        }];
      }
      case "content_block_start": {
        const block = obj(e["content_block"]);
        const at = typeof e["index"] === "number" ? e["index"] : -1;
        if (block?.["type"] === "tool_use") {
          const index = this.#tools.size;
          this.#tools.set(at, index);
          return [{
            type: "tool_start",
            index,
            id: str(block["id"]) ?? newId("toolu_"),
            name: str(block["name"]) ?? "",
          }];
        }
        const text = str(block?.["text"]);
        return text ? [{ type: "text", delta: text }] : [];
      }
      case "content_block_delta": {
        const delta = obj(e["delta"]);
        const kind = delta?.["type"];
        if (kind === "text_delta") {
          const text = str(delta?.["text"]);
          return text ? [{ type: "text", delta: text }] : [];
        }
        if (kind === "thinking_delta") {
          const text = str(delta?.["thinking"]);
          return text ? [{ type: "reasoning", delta: text }] : [];
        }
        if (kind === "input_json_delta") {
          const index = this.#tools.get(typeof e["index"] === "number" ? e["index"] : -1);
          const json = str(delta?.["partial_json"]);
          return index !== undefined && json ? [{ type: "tool_args", index, delta: json }] : [];
        }
        return [];
      }
      case "message_delta":
        addUsage(this.#usage, obj(e["usage"]));
        this.#stop = obj(e["delta"])?.["stop_reason"] ?? this.#stop;
        return [];
      case "message_stop":
        this.#finished = true;
        return [{ type: "usage", usage: total(this.#usage) }, {
          type: "finish",
          finish: messagesFinish(this.#stop),
        }];
      case "error": {
        this.#finished = true;
        const error = obj(e["error"]);
        return [{
          type: "error",
          status: 502,
          errorType: str(error?.["type"]) ?? "api_error",
          message: str(error?.["message"]) ?? "The backend failed.",
        }];
      }
    }
    return [];
  }

  end(): NeutralEvent[] {
    return [];
  }
}

/** A Responses answer (Codex, Copilot), final object or stream, read into neutral form. */
import { parseJsonObject } from "../../json.ts";
import type {
  FinishReason,
  NeutralAnswer,
  NeutralEvent,
  NeutralUsage,
  StreamDecoder,
  ToolCall,
} from "../neutral.ts";
import { arr, count, type JsonObject, newId, num, obj, str } from "../util.ts";

export function responsesUsage(usage: JsonObject | undefined): NeutralUsage | undefined {
  if (!usage) return undefined;
  return {
    input: count(usage["input_tokens"]),
    cacheRead: count(obj(usage["input_tokens_details"])?.["cached_tokens"]),
    cacheWrite: 0,
    output: count(usage["output_tokens"]),
    reasoning: count(obj(usage["output_tokens_details"])?.["reasoning_tokens"]),
  };
}

function finishOf(response: JsonObject | undefined, hasTools: boolean): FinishReason {
  const reason = str(obj(response?.["incomplete_details"])?.["reason"]);
  if (response?.["status"] === "incomplete") {
    return reason === "content_filter" ? "content_filter" : "length";
  }
  return hasTools ? "tool_calls" : "stop";
}

export function readResponsesAnswer(response: JsonObject): NeutralAnswer {
  let text = "";
  let reasoning = "";
  let refusal = "";
  const toolCalls: ToolCall[] = [];
  for (const raw of arr(response["output"])) {
    const item = obj(raw);
    if (item?.["type"] === "message") {
      for (const part of arr(item["content"])) {
        const p = obj(part);
        if (p?.["type"] === "output_text") text += str(p["text"]) ?? "";
        else if (p?.["type"] === "refusal") refusal += str(p["refusal"]) ?? "";
      }
    } else if (item?.["type"] === "function_call") {
      toolCalls.push({
        id: str(item["call_id"]) ?? newId("call_"),
        name: str(item["name"]) ?? "",
        arguments: str(item["arguments"]) ?? "",
      });
    } else if (item?.["type"] === "reasoning") {
      for (const part of arr(item["summary"])) reasoning += str(obj(part)?.["text"]) ?? "";
    }
  }
  const usage = responsesUsage(obj(response["usage"]));
  return {
    id: str(response["id"]) ?? newId("resp_"),
    model: str(response["model"]) ?? "",
    created: num(response["created_at"]) ?? Math.floor(Date.now() / 1000),
    text,
    reasoning,
    refusal,
    toolCalls,
    finish: finishOf(response, toolCalls.length > 0),
    ...(usage ? { usage } : {}),
  };
}

/**
 * Responses events → neutral events. Function calls are numbered in the
 * order their items appear; arguments that arrive only whole (in
 * `.done` events, without deltas) are passed on then.
 */
export class ResponsesStreamDecoder implements StreamDecoder {
  #started = false;
  #finished = false;
  /** output_index → tool index, with whether any argument text was passed on. */
  #tools = new Map<number, { index: number; sent: boolean }>();
  /** item ids → output_index (argument deltas name the item). */
  #items = new Map<string, number>();

  #tool(e: JsonObject) {
    const at = num(e["output_index"]) ?? this.#items.get(str(e["item_id"]) ?? "");
    return at === undefined ? undefined : this.#tools.get(at);
  }

  push(data: string | null): NeutralEvent[] {
    if (data === null || this.#finished) return [];
    const e = parseJsonObject(data);
    if (!e) return [];
    const type = e["type"];
    const out: NeutralEvent[] = [];
    const response = obj(e["response"]);
    if (!this.#started && (type === "response.created" || type === "response.in_progress")) {
      this.#started = true;
      out.push({
        type: "start",
        id: str(response?.["id"]) ?? newId("resp_"),
        model: str(response?.["model"]) ?? "",
        created: num(response?.["created_at"]) ?? Math.floor(Date.now() / 1000),
      });
      return out;
    }
    switch (type) {
      case "response.output_text.delta": {
        const delta = str(e["delta"]);
        if (delta) out.push({ type: "text", delta });
        break;
      }
      case "response.refusal.delta": {
        const delta = str(e["delta"]);
        if (delta) out.push({ type: "refusal", delta });
        break;
      }
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta": {
        const delta = str(e["delta"]);
        if (delta) out.push({ type: "reasoning", delta });
        break;
      }
      case "response.output_item.added": {
        const item = obj(e["item"]);
        const at = num(e["output_index"]);
        if (item?.["type"] === "function_call" && at !== undefined) {
          const index = this.#tools.size;
          this.#tools.set(at, { index, sent: false });
          const id = str(item["id"]);
          if (id) this.#items.set(id, at);
          out.push({
            type: "tool_start",
            index,
            id: str(item["call_id"]) ?? newId("call_"),
            name: str(item["name"]) ?? "",
          });
        }
        break;
      }
      case "response.function_call_arguments.delta": {
        const tool = this.#tool(e);
        const delta = str(e["delta"]);
        if (tool && delta) {
          tool.sent = true;
          out.push({ type: "tool_args", index: tool.index, delta });
        }
        break;
      }
      case "response.function_call_arguments.done":
      case "response.output_item.done": {
        const tool = this.#tool(e);
        const args = str(e["arguments"]) ?? str(obj(e["item"])?.["arguments"]);
        if (tool && !tool.sent && args) {
          tool.sent = true;
          out.push({ type: "tool_args", index: tool.index, delta: args });
        }
        break;
      }
      case "response.completed":
      case "response.incomplete": {
        this.#finished = true;
        const usage = responsesUsage(obj(response?.["usage"]));
        if (usage) out.push({ type: "usage", usage });
        out.push({ type: "finish", finish: finishOf(response, this.#tools.size > 0) });
        break;
      }
      case "response.failed":
      case "error": {
        this.#finished = true;
        const error = obj(response?.["error"]) ?? obj(e["error"]) ?? e;
        out.push({
          type: "error",
          status: 502,
          errorType: "api_error",
          message: str(error["message"]) ?? "The backend failed to produce a response.",
        });
        break;
      }
    }
    return out;
  }

  end(): NeutralEvent[] {
    return [];
  }
}

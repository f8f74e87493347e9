/**
 * A Chat Completions request (the client's) read into the neutral request.
 * Fields with no equivalent in the other APIs are refused with a 400 naming
 * them when they would change the answer (n > 1, audio, logprobs, legacy
 * functions); advisory fields that only matter to OpenAI's own service
 * (store, metadata, service_tier, seed, ...) are ignored.
 */
import { badRequest } from "../../errors.ts";
import {
  type ContentPart,
  type NeutralMessage,
  type NeutralRequest,
  type TextPart,
  type ToolCall,
  untranslatable,
} from "../neutral.ts";
import {
  readEffort,
  readFunctionTools,
  readResponseFormat,
  readToolChoice,
} from "../request_common.ts";
import { arr, expectObject, expectString, type JsonObject, num, obj, str } from "../util.ts";

/** Parts of a user or tool message. */
function parts(content: unknown, field: string, allowImages: boolean): ContentPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  if (content === null || content === undefined) return [];
  if (!Array.isArray(content)) {
    throw badRequest("invalid_request", `"${field}" must be a string or an array.`);
  }
  return content.map((raw, j): ContentPart => {
    const part = expectObject(raw, `${field}[${j}]`);
    const type = part["type"];
    if (type === "text") {
      return { type: "text", text: expectString(part["text"], `${field}[${j}].text`) };
    }
    if (type === "image_url" && allowImages) {
      const image = part["image_url"];
      const url = typeof image === "string" ? image : str(obj(image)?.["url"]);
      if (url === undefined) {
        throw badRequest("invalid_request", `"${field}[${j}].image_url.url" must be a string.`);
      }
      const detail = str(obj(image)?.["detail"]);
      return detail === undefined ? { type: "image", url } : { type: "image", url, detail };
    }
    throw untranslatable(
      `${field}[${j}].type`,
      `"${String(type)}" cannot be translated for this model.`,
    );
  });
}

function assistantText(content: unknown, field: string): TextPart[] {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  const out: TextPart[] = [];
  arr(content).forEach((raw, j) => {
    const part = expectObject(raw, `${field}[${j}]`);
    const text = part["type"] === "refusal" ? part["refusal"] : part["text"];
    if (part["type"] !== "text" && part["type"] !== "refusal") {
      throw untranslatable(
        `${field}[${j}].type`,
        `"${String(part["type"])}" cannot be translated.`,
      );
    }
    out.push({ type: "text", text: expectString(text, `${field}[${j}]`) });
  });
  return out;
}

function toolCalls(list: unknown, field: string): ToolCall[] {
  return arr(list).map((raw, k) => {
    const call = expectObject(raw, `${field}[${k}]`);
    if (call["type"] !== undefined && call["type"] !== "function") {
      throw untranslatable(
        `${field}[${k}].type`,
        `"${String(call["type"])}" cannot be translated.`,
      );
    }
    const fn = expectObject(call["function"], `${field}[${k}].function`);
    return {
      id: expectString(call["id"], `${field}[${k}].id`),
      name: expectString(fn["name"], `${field}[${k}].function.name`),
      arguments: str(fn["arguments"]) ?? "",
    };
  });
}

function textOf(content: unknown, field: string): string {
  return parts(content, field, false).map((p) => (p as TextPart).text).join("\n");
}

function readMessages(list: unknown): { system: string[]; messages: NeutralMessage[] } {
  if (!Array.isArray(list) || list.length === 0) {
    throw badRequest("invalid_request", `"messages" must be a non-empty array.`);
  }
  const system: string[] = [];
  const messages: NeutralMessage[] = [];
  list.forEach((raw, i) => {
    const field = `messages[${i}]`;
    const m = expectObject(raw, field);
    const role = m["role"];
    if (role === "system" || role === "developer") {
      system.push(textOf(m["content"], `${field}.content`));
    } else if (role === "user") {
      messages.push({ role: "user", content: parts(m["content"], `${field}.content`, true) });
    } else if (role === "assistant") {
      if (m["audio"] !== undefined && m["audio"] !== null) {
        throw untranslatable(`${field}.audio`, "cannot be translated.");
      }
      if (m["function_call"] !== undefined && m["function_call"] !== null) {
        throw untranslatable(`${field}.function_call`, "is not supported; use tool_calls.");
      }
      messages.push({
        role: "assistant",
        content: assistantText(m["content"], `${field}.content`),
        toolCalls: toolCalls(m["tool_calls"], `${field}.tool_calls`),
      });
    } else if (role === "tool") {
      messages.push({
        role: "tool",
        callId: expectString(m["tool_call_id"], `${field}.tool_call_id`),
        content: parts(m["content"], `${field}.content`, true),
      });
    } else {
      throw untranslatable(`${field}.role`, `"${String(role)}" cannot be translated.`);
    }
  });
  return { system, messages };
}

/** Fields whose non-default value changes the answer in a way no other API can give. */
function refuseUntranslatable(body: JsonObject): void {
  const n = body["n"];
  if (n !== undefined && n !== null && n !== 1) {
    throw untranslatable("n", "must be 1: the backend of this model gives one choice.");
  }
  if (body["audio"] !== undefined && body["audio"] !== null) {
    throw untranslatable("audio", "cannot be translated for this model.");
  }
  if (arr(body["modalities"]).some((m) => m !== "text")) {
    throw untranslatable("modalities", 'can only be ["text"] for this model.');
  }
  for (const field of ["logprobs", "top_logprobs", "prediction", "functions", "function_call"]) {
    const v = body[field];
    if (v !== undefined && v !== null && v !== false) {
      throw untranslatable(field, "cannot be translated for this model.");
    }
  }
}

export function readChatRequest(body: JsonObject): NeutralRequest {
  refuseUntranslatable(body);
  const { system, messages } = readMessages(body["messages"]);
  const out: NeutralRequest = {
    system,
    messages,
    tools: readFunctionTools(body["tools"]),
    stream: body["stream"] === true,
    includeUsage: obj(body["stream_options"])?.["include_usage"] === true,
  };
  const choice = readToolChoice(body["tool_choice"]);
  if (choice !== undefined) out.toolChoice = choice;
  if (typeof body["parallel_tool_calls"] === "boolean") {
    out.parallelToolCalls = body["parallel_tool_calls"];
  }
  const format = readResponseFormat(body["response_format"], "response_format");
  if (format) out.responseFormat = format;
  const effort = readEffort(body["reasoning_effort"], "reasoning_effort");
  if (effort) out.reasoningEffort = effort;
  const max = num(body["max_completion_tokens"]) ?? num(body["max_tokens"]);
  if (max !== undefined) out.maxTokens = max;
  const stop = body["stop"];
  if (typeof stop === "string") out.stop = [stop];
  else if (Array.isArray(stop)) out.stop = stop.map((s, i) => expectString(s, `stop[${i}]`));
  const temperature = num(body["temperature"]);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = num(body["top_p"]);
  if (topP !== undefined) out.topP = topP;
  const session = str(body["prompt_cache_key"]) ?? str(body["user"]);
  if (session) out.session = session;
  return out;
}

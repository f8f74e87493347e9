/**
 * A Responses request (the client's) read into the neutral request.
 * Reasoning items (encrypted, tied to the account that made them) are
 * dropped; server-side state (previous_response_id, background) and
 * built-in tools have no equivalent elsewhere and are refused with a 400.
 */
import { badRequest } from "../../errors.ts";
import {
  type ContentPart,
  type NeutralMessage,
  type NeutralRequest,
  type TextPart,
  untranslatable,
} from "../neutral.ts";
import {
  readEffort,
  readFunctionTools,
  readResponseFormat,
  readToolChoice,
} from "../request_common.ts";
import { expectObject, expectString, type JsonObject, num, obj, str } from "../util.ts";

function parts(content: unknown, field: string): ContentPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  if (!Array.isArray(content)) {
    throw badRequest("invalid_request", `"${field}" must be a string or an array.`);
  }
  return content.map((raw, j): ContentPart => {
    const part = expectObject(raw, `${field}[${j}]`);
    const type = part["type"];
    if (type === "input_text" || type === "output_text" || type === "text") {
      return { type: "text", text: expectString(part["text"], `${field}[${j}].text`) };
    }
    if (type === "refusal") {
      return { type: "text", text: expectString(part["refusal"], `${field}[${j}].refusal`) };
    }
    if (type === "input_image") {
      const url = str(part["image_url"]);
      if (url === undefined) {
        throw untranslatable(`${field}[${j}].file_id`, "cannot be translated; send image_url.");
      }
      const detail = str(part["detail"]);
      return detail === undefined || detail === "auto"
        ? { type: "image", url }
        : { type: "image", url, detail };
    }
    throw untranslatable(
      `${field}[${j}].type`,
      `"${String(type)}" cannot be translated for this model.`,
    );
  });
}

function outputParts(output: unknown, field: string): ContentPart[] {
  return typeof output === "string" ? [{ type: "text", text: output }] : parts(output, field);
}

function readInput(input: unknown): { system: string[]; messages: NeutralMessage[] } {
  const system: string[] = [];
  const messages: NeutralMessage[] = [];
  if (typeof input === "string") {
    return { system, messages: [{ role: "user", content: [{ type: "text", text: input }] }] };
  }
  if (!Array.isArray(input)) {
    throw badRequest("invalid_request", `"input" must be a string or an array.`);
  }
  const lastAssistant = () => {
    const last = messages.at(-1);
    if (last?.role === "assistant") return last;
    const fresh: NeutralMessage = { role: "assistant", content: [], toolCalls: [] };
    messages.push(fresh);
    return fresh;
  };
  input.forEach((raw, i) => {
    const field = `input[${i}]`;
    const item = expectObject(raw, field);
    const type = item["type"] ?? "message";
    if (type === "message") {
      const role = item["role"];
      const content = parts(item["content"], `${field}.content`);
      if (role === "system" || role === "developer") {
        system.push(content.map((p) => p.type === "text" ? p.text : "").join("\n"));
      } else if (role === "user") {
        messages.push({ role: "user", content });
      } else if (role === "assistant") {
        const texts = content.filter((p): p is TextPart => p.type === "text" && p.text !== "");
        lastAssistant().content.push(...texts);
      } else {
        throw untranslatable(`${field}.role`, `"${String(role)}" cannot be translated.`);
      }
    } else if (type === "function_call") {
      lastAssistant().toolCalls.push({
        id: expectString(item["call_id"], `${field}.call_id`),
        name: expectString(item["name"], `${field}.name`),
        arguments: str(item["arguments"]) ?? "",
      });
    } else if (type === "function_call_output") {
      messages.push({
        role: "tool",
        callId: expectString(item["call_id"], `${field}.call_id`),
        content: outputParts(item["output"], `${field}.output`),
      });
    } else if (type === "reasoning") {
      // Encrypted reasoning belongs to the account and provider that made it.
    } else {
      throw untranslatable(
        `${field}.type`,
        `"${String(type)}" cannot be translated for this model.`,
      );
    }
  });
  return { system, messages };
}

export function readResponsesRequest(body: JsonObject): NeutralRequest {
  for (const field of ["previous_response_id", "conversation", "prompt"]) {
    if (body[field] !== undefined && body[field] !== null) {
      throw untranslatable(
        field,
        "refers to state kept by OpenAI and cannot be translated for this model.",
      );
    }
  }
  if (body["background"] === true) {
    throw untranslatable("background", "cannot be translated for this model.");
  }
  const { system, messages } = readInput(body["input"] ?? []);
  const instructions = str(body["instructions"]);
  const out: NeutralRequest = {
    system: instructions ? [instructions, ...system] : system,
    messages,
    tools: readFunctionTools(body["tools"]),
    stream: body["stream"] === true,
    includeUsage: true,
  };
  const choice = readToolChoice(body["tool_choice"]);
  if (choice !== undefined) out.toolChoice = choice;
  if (typeof body["parallel_tool_calls"] === "boolean") {
    out.parallelToolCalls = body["parallel_tool_calls"];
  }
  const format = readResponseFormat(obj(body["text"])?.["format"], "text.format");
  if (format) out.responseFormat = format;
  const effort = readEffort(obj(body["reasoning"])?.["effort"], "reasoning.effort");
  if (effort) out.reasoningEffort = effort;
  const max = num(body["max_output_tokens"]);
  if (max !== undefined) out.maxTokens = max;
  const temperature = num(body["temperature"]);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = num(body["top_p"]);
  if (topP !== undefined) out.topP = topP;
  const session = str(body["prompt_cache_key"]) ?? str(body["user"]);
  if (session) out.session = session;
  return out;
}

/**
 * An Anthropic Messages request (the client's, Claude Code's for instance)
 * read into the neutral request. Thinking blocks carry signatures only
 * Anthropic can check and are dropped from translated history; server tools
 * (web search, code execution) and documents have no equivalent elsewhere
 * and are refused with a 400 naming the field. `cache_control` marks are
 * dropped: other backends cache on their own.
 */
import { badRequest } from "../../errors.ts";
import {
  type ContentPart,
  type NeutralMessage,
  type NeutralRequest,
  type NeutralTool,
  type ReasoningEffort,
  type ToolChoice,
  untranslatable,
} from "../neutral.ts";
import { arr, expectObject, expectString, type JsonObject, num, obj, str } from "../util.ts";

function imagePart(block: JsonObject, field: string): ContentPart {
  const source = expectObject(block["source"], `${field}.source`);
  if (source["type"] === "base64") {
    const media = expectString(source["media_type"], `${field}.source.media_type`);
    return {
      type: "image",
      url: `data:${media};base64,${expectString(source["data"], `${field}.source.data`)}`,
    };
  }
  if (source["type"] === "url") {
    return { type: "image", url: expectString(source["url"], `${field}.source.url`) };
  }
  throw untranslatable(
    `${field}.source.type`,
    `"${String(source["type"])}" cannot be translated for this model.`,
  );
}

function blocks(content: unknown, field: string): JsonObject[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  if (!Array.isArray(content)) {
    throw badRequest("invalid_request", `"${field}" must be a string or an array.`);
  }
  return content.map((b, j) => expectObject(b, `${field}[${j}]`));
}

function resultContent(content: unknown, field: string): ContentPart[] {
  if (content === undefined) return [];
  return blocks(content, field).map((b, k): ContentPart => {
    if (b["type"] === "text") {
      return { type: "text", text: expectString(b["text"], `${field}[${k}].text`) };
    }
    if (b["type"] === "image") return imagePart(b, `${field}[${k}]`);
    throw untranslatable(
      `${field}[${k}].type`,
      `"${String(b["type"])}" cannot be translated for this model.`,
    );
  });
}

function readMessages(list: unknown, system: string[]): NeutralMessage[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw badRequest("invalid_request", `"messages" must be a non-empty array.`);
  }
  const out: NeutralMessage[] = [];
  list.forEach((raw, i) => {
    const field = `messages[${i}]`;
    const m = expectObject(raw, field);
    const role = m["role"];
    if (role === "system") {
      // Claude Code sends its environment as a system-role turn: system text elsewhere.
      system.push(...readSystem(m["content"]));
      return;
    }
    if (role !== "user" && role !== "assistant") {
      throw untranslatable(`${field}.role`, `"${String(role)}" cannot be translated.`);
    }
    const assistant: NeutralMessage & { role: "assistant" } = {
      role: "assistant",
      content: [],
      toolCalls: [],
    };
    let user: ContentPart[] = [];
    const flushUser = () => {
      if (user.length > 0) out.push({ role: "user", content: user });
      user = [];
    };
    blocks(m["content"], `${field}.content`).forEach((b, j) => {
      const at = `${field}.content[${j}]`;
      const type = b["type"];
      if (type === "text") {
        const text = expectString(b["text"], `${at}.text`);
        if (role === "assistant") {
          if (text !== "") assistant.content.push({ type: "text", text });
        } else user.push({ type: "text", text });
      } else if (type === "image" && role === "user") {
        user.push(imagePart(b, at));
      } else if (type === "tool_use" && role === "assistant") {
        assistant.toolCalls.push({
          id: expectString(b["id"], `${at}.id`),
          name: expectString(b["name"], `${at}.name`),
          arguments: JSON.stringify(obj(b["input"]) ?? {}),
        });
      } else if (type === "tool_result" && role === "user") {
        // Tool results are messages of their own in the other APIs, in place.
        flushUser();
        out.push({
          role: "tool",
          callId: expectString(b["tool_use_id"], `${at}.tool_use_id`),
          content: resultContent(b["content"], `${at}.content`),
          ...(b["is_error"] === true ? { isError: true } : {}),
        });
      } else if ((type === "thinking" || type === "redacted_thinking") && role === "assistant") {
        // Signed by Anthropic for Anthropic; meaningless to another backend.
      } else {
        throw untranslatable(
          `${at}.type`,
          `"${String(type)}" cannot be translated for this model.`,
        );
      }
    });
    if (role === "assistant") out.push(assistant);
    else flushUser();
  });
  return out;
}

function readSystem(system: unknown): string[] {
  if (system === undefined || system === null) return [];
  if (typeof system === "string") return [system];
  return blocks(system, "system").map((b, i) => {
    if (b["type"] !== "text") throw untranslatable(`system[${i}].type`, "must be text.");
    return expectString(b["text"], `system[${i}].text`);
  });
}

function readTools(list: unknown): NeutralTool[] {
  return arr(list).map((raw, i) => {
    const tool = expectObject(raw, `tools[${i}]`);
    const type = tool["type"];
    if (type !== undefined && type !== null && type !== "custom") {
      throw untranslatable(
        `tools[${i}].type`,
        `"${String(type)}" is an Anthropic tool and cannot be translated for this model.`,
      );
    }
    const out: NeutralTool = {
      name: expectString(tool["name"], `tools[${i}].name`),
      parameters: obj(tool["input_schema"]) ?? { type: "object", properties: {} },
    };
    const description = str(tool["description"]);
    if (description !== undefined) out.description = description;
    return out;
  });
}

function readToolChoice(v: unknown): { choice?: ToolChoice; parallel?: boolean } {
  const choice = obj(v);
  if (!choice) return {};
  const parallel = choice["disable_parallel_tool_use"] === true ? { parallel: false } : {};
  switch (choice["type"]) {
    case "auto":
      return { choice: "auto", ...parallel };
    case "any":
      return { choice: "required", ...parallel };
    case "none":
      return { choice: "none" };
    case "tool":
      return { choice: { name: expectString(choice["name"], "tool_choice.name") }, ...parallel };
  }
  throw untranslatable("tool_choice.type", `"${String(choice["type"])}" cannot be translated.`);
}

/** Thinking budgets in effort terms (the inverse of messages/request_write.ts). */
function effortOf(thinking: unknown): ReasoningEffort | undefined {
  const t = obj(thinking);
  if (!t) return undefined;
  if (t["type"] === "disabled") return undefined;
  if (t["type"] === "adaptive") return "medium";
  const budget = num(t["budget_tokens"]) ?? 0;
  return budget < 4000 ? "low" : budget < 16000 ? "medium" : "high";
}

export function readMessagesRequest(body: JsonObject): NeutralRequest {
  const { choice, parallel } = readToolChoice(body["tool_choice"]);
  const system = readSystem(body["system"]);
  const out: NeutralRequest = {
    system,
    messages: readMessages(body["messages"], system),
    tools: readTools(body["tools"]),
    stream: body["stream"] === true,
    includeUsage: true,
  };
  if (choice !== undefined) out.toolChoice = choice;
  if (parallel !== undefined) out.parallelToolCalls = parallel;
  const effort = effortOf(body["thinking"]);
  if (effort) out.reasoningEffort = effort;
  const max = num(body["max_tokens"]);
  if (max !== undefined) out.maxTokens = max;
  const stop = body["stop_sequences"];
  if (Array.isArray(stop) && stop.length > 0) {
    out.stop = stop.map((s, i) => expectString(s, `stop_sequences[${i}]`));
  }
  const temperature = num(body["temperature"]);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = num(body["top_p"]);
  if (topP !== undefined) out.topP = topP;
  const session = str(obj(body["metadata"])?.["user_id"]);
  if (session) out.session = session;
  return out;
}

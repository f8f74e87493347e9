/** The neutral request written as a Chat Completions body (Copilot's chat endpoint). */
import type { ContentPart, NeutralRequest } from "../neutral.ts";
import { joinTexts, type JsonObject } from "../util.ts";

function chatParts(content: ContentPart[]): unknown {
  if (content.every((p) => p.type === "text")) {
    return content.map((p) => p.type === "text" ? p.text : "").join("\n");
  }
  return content.map((p) =>
    p.type === "text" ? { type: "text", text: p.text } : {
      type: "image_url",
      image_url: p.detail === undefined ? { url: p.url } : { url: p.url, detail: p.detail },
    }
  );
}

export function writeChatRequest(req: NeutralRequest, model: string): JsonObject {
  const messages: unknown[] = [];
  const system = joinTexts(req.system);
  if (system !== "") messages.push({ role: "system", content: system });
  for (const m of req.messages) {
    if (m.role === "user") messages.push({ role: "user", content: chatParts(m.content) });
    else if (m.role === "tool") {
      messages.push({ role: "tool", tool_call_id: m.callId, content: chatParts(m.content) });
    } else {
      const text = m.content.map((p) => p.text).join("");
      const out: JsonObject = {
        role: "assistant",
        content: text === "" && m.toolCalls.length > 0 ? null : text,
      };
      if (m.toolCalls.length > 0) {
        out["tool_calls"] = m.toolCalls.map((c) => ({
          id: c.id,
          type: "function",
          function: { name: c.name, arguments: c.arguments },
        }));
      }
      messages.push(out);
    }
  }
  const body: JsonObject = { model, messages, stream: req.stream };
  if (req.stream) body["stream_options"] = { include_usage: true };
  if (req.tools.length > 0) {
    body["tools"] = req.tools.map((t) => ({
      type: "function",
      function: {
        name: t.name,
        ...(t.description === undefined ? {} : { description: t.description }),
        parameters: t.parameters,
        ...(t.strict === undefined ? {} : { strict: t.strict }),
      },
    }));
  }
  const choice = req.toolChoice;
  if (choice !== undefined) {
    body["tool_choice"] = typeof choice === "string"
      ? choice
      : { type: "function", function: { name: choice.name } };
  }
  if (req.parallelToolCalls !== undefined && req.tools.length > 0) {
    body["parallel_tool_calls"] = req.parallelToolCalls;
  }
  const format = req.responseFormat;
  if (format?.type === "json_object") body["response_format"] = { type: "json_object" };
  else if (format?.type === "json_schema") {
    const { type: _, ...spec } = format;
    body["response_format"] = { type: "json_schema", json_schema: spec };
  }
  if (req.reasoningEffort !== undefined) body["reasoning_effort"] = req.reasoningEffort;
  if (req.maxTokens !== undefined) body["max_tokens"] = req.maxTokens;
  if (req.stop !== undefined) body["stop"] = req.stop;
  if (req.temperature !== undefined) body["temperature"] = req.temperature;
  if (req.topP !== undefined) body["top_p"] = req.topP;
  return body;
}

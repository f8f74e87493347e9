/**
 * The neutral request written as a Responses body (Codex, Copilot's
 * responses-only models). System texts become `instructions`; the Codex
 * adapter then applies its own rules (store, stream, dropped parameters).
 * Responses has no `stop`: stop sequences are applied to the answer on the
 * way back (see stop.ts).
 */
import type { ContentPart, NeutralRequest } from "../neutral.ts";
import { joinTexts, type JsonObject } from "../util.ts";

function inputParts(content: ContentPart[], textType: string): unknown[] {
  return content.map((p) =>
    p.type === "text"
      ? { type: textType, text: p.text }
      : { type: "input_image", image_url: p.url, detail: p.detail ?? "auto" }
  );
}

function toolOutput(content: ContentPart[]): unknown {
  if (content.every((p) => p.type === "text")) {
    return content.map((p) => p.type === "text" ? p.text : "").join("\n");
  }
  return inputParts(content, "input_text");
}

export function writeResponsesRequest(req: NeutralRequest, model: string): JsonObject {
  const input: unknown[] = [];
  for (const m of req.messages) {
    if (m.role === "user") {
      input.push({ type: "message", role: "user", content: inputParts(m.content, "input_text") });
    } else if (m.role === "tool") {
      input.push({
        type: "function_call_output",
        call_id: m.callId,
        output: toolOutput(m.content),
      });
    } else {
      if (m.content.length > 0) {
        input.push({
          type: "message",
          role: "assistant",
          content: m.content.map((p) => ({ type: "output_text", text: p.text })),
        });
      }
      for (const c of m.toolCalls) {
        input.push({ type: "function_call", call_id: c.id, name: c.name, arguments: c.arguments });
      }
    }
  }
  const body: JsonObject = { model, input, stream: req.stream };
  const instructions = joinTexts(req.system);
  if (instructions !== "") body["instructions"] = instructions;
  if (req.tools.length > 0) {
    body["tools"] = req.tools.map((t) => ({
      type: "function",
      name: t.name,
      ...(t.description === undefined ? {} : { description: t.description }),
      parameters: t.parameters,
      strict: t.strict ?? false,
    }));
  }
  const choice = req.toolChoice;
  if (choice !== undefined) {
    body["tool_choice"] = typeof choice === "string"
      ? choice
      : { type: "function", name: choice.name };
  }
  if (req.parallelToolCalls !== undefined && req.tools.length > 0) {
    body["parallel_tool_calls"] = req.parallelToolCalls;
  }
  const format = req.responseFormat;
  if (format?.type === "json_object") body["text"] = { format: { type: "json_object" } };
  else if (format?.type === "json_schema") body["text"] = { format };
  if (req.reasoningEffort !== undefined) {
    body["reasoning"] = { effort: req.reasoningEffort, summary: "auto" };
  }
  if (req.maxTokens !== undefined) body["max_output_tokens"] = req.maxTokens;
  if (req.temperature !== undefined) body["temperature"] = req.temperature;
  if (req.topP !== undefined) body["top_p"] = req.topP;
  if (req.session !== undefined) body["prompt_cache_key"] = req.session;
  return body;
}

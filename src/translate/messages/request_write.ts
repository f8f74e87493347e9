/**
 * The neutral request written as an Anthropic Messages body (Claude,
 * Copilot's Claude models). The Claude adapter then applies Claude Code's
 * rules (identity block, tool names) to it as to any client's body.
 *
 * - Tool results become `tool_result` blocks of the next user message
 *   (consecutive results and user text merge into one message).
 * - Reasoning effort becomes a thinking budget, added to max_tokens (which
 *   Anthropic counts thinking against); temperature is dropped then, as
 *   Anthropic requires with thinking.
 * - A JSON schema answer format becomes one forced tool whose input is the
 *   answer (Anthropic's own recipe); answer_read turns it back into text.
 */
import type { ContentPart, NeutralRequest, ReasoningEffort } from "../neutral.ts";
import { untranslatable } from "../neutral.ts";
import { joinTexts, type JsonObject, parseArguments, parseDataUrl } from "../util.ts";

/** The forced tool that carries a JSON schema answer. */
export const JSON_ANSWER_TOOL = "json_answer";

/**
 * Used when the client set no max_tokens (Messages requires one) and the
 * model's output limit is unknown; when known, the limit is the default.
 */
export const DEFAULT_MAX_TOKENS = 8192;

/** Thinking budgets per effort level (also used for effort suffixes, src/proxy/effort_body.ts). */
export const THINKING_BUDGETS: Partial<Record<ReasoningEffort, number>> = {
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 32768,
};

function blocks(content: ContentPart[]): JsonObject[] {
  return content.map((p) => {
    if (p.type === "text") return { type: "text", text: p.text };
    const data = parseDataUrl(p.url);
    return {
      type: "image",
      source: data
        ? { type: "base64", media_type: data.mediaType, data: data.data }
        : { type: "url", url: p.url },
    };
  });
}

function toolResultContent(content: ContentPart[]): unknown {
  return content.every((p) => p.type === "text")
    ? content.map((p) => p.type === "text" ? p.text : "").join("\n")
    : blocks(content);
}

export function writeMessagesRequest(
  req: NeutralRequest,
  model: string,
  outputLimit?: number,
): JsonObject {
  const messages: { role: string; content: JsonObject[] }[] = [];
  const userTurn = () => {
    const last = messages.at(-1);
    if (last?.role === "user") return last.content;
    const fresh = { role: "user", content: [] as JsonObject[] };
    messages.push(fresh);
    return fresh.content;
  };
  req.messages.forEach((m, i) => {
    if (m.role === "user") {
      userTurn().push(...blocks(m.content.filter((p) => p.type !== "text" || p.text !== "")));
    } else if (m.role === "tool") {
      userTurn().push({
        type: "tool_result",
        tool_use_id: m.callId,
        content: toolResultContent(m.content),
        ...(m.isError ? { is_error: true } : {}),
      });
    } else {
      const content: JsonObject[] = m.content.map((p) => ({ type: "text", text: p.text }));
      m.toolCalls.forEach((c, k) => {
        content.push({
          type: "tool_use",
          id: c.id,
          name: c.name,
          input: parseArguments(c.arguments, `messages[${i}].tool_calls[${k}].function.arguments`),
        });
      });
      if (content.length > 0) messages.push({ role: "assistant", content });
    }
  });
  let maxTokens = req.maxTokens ?? outputLimit ?? DEFAULT_MAX_TOKENS;
  const body: JsonObject = { model, messages, stream: req.stream };
  const system = [...req.system];
  const format = req.responseFormat;
  const tools: JsonObject[] = req.tools.map((t) => ({
    name: t.name,
    ...(t.description === undefined ? {} : { description: t.description }),
    input_schema: t.parameters,
  }));
  let toolChoice: JsonObject | undefined;
  const choice = req.toolChoice;
  if (choice === "auto") toolChoice = { type: "auto" };
  else if (choice === "none") toolChoice = { type: "none" };
  else if (choice === "required") toolChoice = { type: "any" };
  else if (choice !== undefined) toolChoice = { type: "tool", name: choice.name };
  if (req.parallelToolCalls === false && tools.length > 0 && choice !== "none") {
    toolChoice = { ...(toolChoice ?? { type: "auto" }), disable_parallel_tool_use: true };
  }
  if (format?.type === "json_schema") {
    if (tools.length > 0) {
      throw untranslatable(
        "response_format",
        "together with tools cannot be translated for a Claude model.",
      );
    }
    tools.push({
      name: JSON_ANSWER_TOOL,
      description: format.description ?? `Give the answer (${format.name}) as this tool's input.`,
      input_schema: format.schema,
    });
    toolChoice = { type: "tool", name: JSON_ANSWER_TOOL };
  } else if (format?.type === "json_object") {
    system.push("Answer with one JSON object and nothing else.");
  }
  const joined = joinTexts(system);
  if (joined !== "") body["system"] = joined;
  if (tools.length > 0) body["tools"] = tools;
  if (toolChoice) body["tool_choice"] = toolChoice;
  // Anthropic refuses thinking with a forced tool choice, and in a tool loop
  // whose assistant turn has no (signed) thinking block, which translated
  // history never has.
  const forced = toolChoice?.["type"] === "tool" || toolChoice?.["type"] === "any";
  const inToolLoop = req.messages.at(-1)?.role === "tool";
  let budget = req.reasoningEffort === undefined || forced || inToolLoop
    ? undefined
    : THINKING_BUDGETS[req.reasoningEffort];
  if (budget !== undefined) {
    // Thinking counts against max_tokens: room for both, within the model's limit.
    maxTokens += budget;
    if (outputLimit !== undefined && maxTokens > outputLimit) {
      maxTokens = outputLimit;
      budget = Math.min(budget, Math.floor(outputLimit / 2));
    }
    body["thinking"] = { type: "enabled", budget_tokens: budget };
  } else {
    if (req.temperature !== undefined) body["temperature"] = req.temperature;
    if (req.topP !== undefined) body["top_p"] = req.topP;
  }
  body["max_tokens"] = maxTokens;
  if (req.stop !== undefined && req.stop.length > 0) body["stop_sequences"] = req.stop;
  if (req.session !== undefined) body["metadata"] = { user_id: req.session };
  return body;
}

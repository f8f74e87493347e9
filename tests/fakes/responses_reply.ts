/** OpenAI Responses answers (final object and stream), shared by the chatgpt and copilot fakes. */
import {
  deltas,
  estimateTokens,
  sampleArguments,
  type ToolCall,
  type UsageOverride,
} from "./backend.ts";
import { type SseEvent, sseEvent } from "./sse.ts";
import { randomId } from "./world.ts";

export interface ResponsesReply {
  id: string;
  model: string;
  text: string;
  tool?: { name: string; arguments: string; callId: string };
  usage: {
    input_tokens: number;
    input_tokens_details: { cached_tokens: number };
    output_tokens: number;
    output_tokens_details: { reasoning_tokens: number };
    total_tokens: number;
  };
  createdAt: number;
}

function textOfContent(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => typeof p?.text === "string" ? p.text : "").join("\n");
}

/** Text of the last user input item (or the input itself when it is a string). */
export function lastUserInput(input: unknown): string {
  if (typeof input === "string") return input;
  if (!Array.isArray(input)) return "";
  for (let i = input.length - 1; i >= 0; i--) {
    const item = input[i] as { role?: unknown; content?: unknown } | undefined;
    if (item?.role === "user") return textOfContent(item.content);
  }
  return "";
}

/** True when a tool's output came after the last user message (the tool call was answered). */
function toolAnswered(input: unknown): boolean {
  if (!Array.isArray(input)) return false;
  for (let i = input.length - 1; i >= 0; i--) {
    const item = input[i] as { role?: unknown; type?: unknown } | undefined;
    if (item?.role === "user") return false;
    if (item?.type === "function_call_output" || item?.type === "custom_tool_call_output") {
      return true;
    }
  }
  return false;
}

/**
 * The tool a reply calls: `preferred` when the request offers it, else the
 * first (flat `{type:"function", name}` or Chat-style `function.name`).
 */
function firstTool(
  body: Record<string, unknown>,
  preferred?: string,
): { name: string; schema: unknown } | undefined {
  const tools = Array.isArray(body["tools"]) ? body["tools"] : [];
  const t = (tools.find((t) => preferred !== undefined && t?.name === preferred) ?? tools[0]) as {
    name?: unknown;
    parameters?: unknown;
    function?: { name?: unknown; parameters?: unknown };
  } | undefined;
  const name = t?.name ?? t?.function?.name;
  return typeof name === "string"
    ? { name, schema: t?.parameters ?? t?.function?.parameters }
    : undefined;
}

export function responsesReply(
  body: Record<string, unknown>,
  bodyText: string,
  text: string,
  usage: UsageOverride,
  nowMs: number,
  toolCall?: ToolCall,
): ResponsesReply {
  const wants = /use tool/i.test(lastUserInput(body["input"])) && !toolAnswered(body["input"]);
  const tool = wants ? firstTool(body, toolCall?.name) : undefined;
  const input = usage.input_tokens ?? estimateTokens(bodyText);
  const output = usage.output_tokens ?? deltas(text).length + (tool ? 10 : 0);
  const reply: ResponsesReply = {
    id: `resp_${randomId(12)}`,
    model: String(body["model"]),
    text,
    usage: {
      input_tokens: input,
      input_tokens_details: { cached_tokens: usage.cache_read_input_tokens ?? 0 },
      output_tokens: output,
      output_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
      total_tokens: input + output,
    },
    createdAt: Math.floor(nowMs / 1000),
  };
  if (tool) {
    reply.tool = {
      name: tool.name,
      arguments: JSON.stringify(
        toolCall?.name === tool.name ? toolCall.input : sampleArguments(tool.schema),
      ),
      callId: `call_${randomId(10)}`,
    };
  }
  return reply;
}

const MSG_ID = (r: ResponsesReply) => `msg_${r.id.slice(5)}`;
const FC_ID = (r: ResponsesReply) => `fc_${r.id.slice(5)}`;

function messageItem(r: ResponsesReply, done: boolean): Record<string, unknown> {
  return {
    id: MSG_ID(r),
    type: "message",
    status: done ? "completed" : "in_progress",
    role: "assistant",
    content: done ? [{ type: "output_text", text: r.text, annotations: [] }] : [],
  };
}

function toolItem(r: ResponsesReply, done: boolean): Record<string, unknown> | undefined {
  if (!r.tool) return undefined;
  return {
    id: FC_ID(r),
    type: "function_call",
    status: done ? "completed" : "in_progress",
    name: r.tool.name,
    call_id: r.tool.callId,
    arguments: done ? r.tool.arguments : "",
  };
}

/** The final `response` object (what `response.completed` carries). */
export function responseObject(r: ResponsesReply, status = "completed"): Record<string, unknown> {
  const done = status === "completed";
  const output = done ? [messageItem(r, true)] : [];
  const tool = done ? toolItem(r, true) : undefined;
  if (tool) output.push(tool);
  return {
    id: r.id,
    object: "response",
    created_at: r.createdAt,
    status,
    model: r.model,
    output,
    usage: done ? r.usage : null,
    error: null,
    incomplete_details: null,
  };
}

/** The real event order; `eventLines` adds `event:` lines (Copilot) or not (ChatGPT). */
export function responsesEvents(r: ResponsesReply, eventLines: boolean): SseEvent[] {
  let seq = 0;
  const events: SseEvent[] = [];
  const ev = (type: string, data: Record<string, unknown>) =>
    events.push(sseEvent(eventLines ? type : undefined, { type, sequence_number: seq++, ...data }));
  ev("response.created", { response: responseObject(r, "in_progress") });
  ev("response.in_progress", { response: responseObject(r, "in_progress") });
  const item_id = MSG_ID(r);
  ev("response.output_item.added", { output_index: 0, item: messageItem(r, false) });
  const part = { type: "output_text", text: "", annotations: [] };
  ev("response.content_part.added", { item_id, output_index: 0, content_index: 0, part });
  for (const delta of deltas(r.text)) {
    ev("response.output_text.delta", { item_id, output_index: 0, content_index: 0, delta });
  }
  ev("response.output_text.done", { item_id, output_index: 0, content_index: 0, text: r.text });
  ev("response.content_part.done", {
    item_id,
    output_index: 0,
    content_index: 0,
    part: { ...part, text: r.text },
  });
  ev("response.output_item.done", { output_index: 0, item: messageItem(r, true) });
  const added = toolItem(r, false);
  if (r.tool && added) {
    ev("response.output_item.added", { output_index: 1, item: added });
    const args = r.tool.arguments;
    const cut = Math.ceil(args.length / 3);
    for (let at = 0; at < args.length; at += cut) {
      ev("response.function_call_arguments.delta", {
        item_id: FC_ID(r),
        output_index: 1,
        delta: args.slice(at, at + cut),
      });
    }
    ev("response.function_call_arguments.done", {
      item_id: FC_ID(r),
      output_index: 1,
      arguments: args,
    });
    ev("response.output_item.done", { output_index: 1, item: toolItem(r, true) });
  }
  ev("response.completed", { response: responseObject(r) });
  return events;
}

/** Anthropic Messages answers (JSON and stream), shared by the anthropic and copilot fakes. */
import {
  deltas,
  estimateTokens,
  sampleArguments,
  type ToolCall,
  type UsageOverride,
} from "./backend.ts";
import { type SseEvent, sseEvent } from "./sse.ts";
import { randomId } from "./world.ts";

export interface MessagesReply {
  model: string;
  text: string;
  tool?: { name: string; input: Record<string, unknown> };
  /** A thinking block before the text (the request enabled thinking and the fake has some). */
  thinking?: { text: string; signature: string };
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens: number;
    cache_creation_input_tokens: number;
  };
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((b) =>
    b && typeof b === "object" && (b as { type?: unknown }).type === "text"
      ? String((b as { text?: unknown }).text ?? "")
      : ""
  ).join("\n");
}

/** Text of the last `user` message (string content or its text blocks). */
export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return "";
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | undefined;
    if (m?.role === "user") return textOf(m.content);
  }
  return "";
}

/** Builds the reply of a Messages request: a tool call when it has tools and asks to "use tool". */
export function messagesReply(
  body: Record<string, unknown>,
  bodyText: string,
  text: string,
  usage: UsageOverride,
  options: { toolCall?: ToolCall | undefined; thinking?: string | undefined } = {},
): MessagesReply {
  const tools = Array.isArray(body["tools"]) ? body["tools"] as Record<string, unknown>[] : [];
  const chosen = options.toolCall && tools.find((t) => t["name"] === options.toolCall!.name);
  const first = chosen ?? tools[0];
  const wants = /use tool/i.test(lastUserText(body["messages"]));
  const reply: MessagesReply = {
    model: String(body["model"]),
    text,
    usage: {
      input_tokens: usage.input_tokens ?? estimateTokens(bodyText),
      output_tokens: usage.output_tokens ?? deltas(text).length + (wants && first ? 10 : 0),
      cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
      cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
    },
  };
  if (wants && first && typeof first["name"] === "string") {
    reply.tool = {
      name: first["name"],
      input: chosen ? options.toolCall!.input : sampleArguments(first["input_schema"]),
    };
  }
  const thinking = (body["thinking"] as { type?: unknown } | undefined)?.type;
  if (options.thinking !== undefined && (thinking === "enabled" || thinking === "adaptive")) {
    reply.thinking = { text: options.thinking, signature: THINKING_SIGNATURE };
  }
  return reply;
}

/** The signature the fake gives its thinking blocks (the real one is opaque too). */
export const THINKING_SIGNATURE = "fake-thinking-signature";

export function messageJson(r: MessagesReply): Record<string, unknown> {
  const content: unknown[] = [{ type: "text", text: r.text }];
  if (r.thinking) {
    content.unshift({
      type: "thinking",
      thinking: r.thinking.text,
      signature: r.thinking.signature,
    });
  }
  if (r.tool) {
    content.push({
      type: "tool_use",
      id: `toolu_${randomId(12)}`,
      name: r.tool.name,
      input: r.tool.input,
    });
  }
  return {
    id: `msg_${randomId(12)}`,
    type: "message",
    role: "assistant",
    model: r.model,
    content,
    stop_reason: r.tool ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: r.usage,
  };
}

export function messageEvents(r: MessagesReply): SseEvent[] {
  const ev = (type: string, data: Record<string, unknown>) => sseEvent(type, { type, ...data });
  const events: SseEvent[] = [
    ev("message_start", {
      message: {
        id: `msg_${randomId(12)}`,
        type: "message",
        role: "assistant",
        model: r.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...r.usage, output_tokens: 1 },
      },
    }),
    ev("ping", {}),
  ];
  // Blocks are numbered in order: thinking (if any), text, tool use (if any).
  let index = 0;
  if (r.thinking) {
    events.push(
      ev("content_block_start", {
        index,
        content_block: { type: "thinking", thinking: "", signature: "" },
      }),
      ev("content_block_delta", {
        index,
        delta: { type: "thinking_delta", thinking: r.thinking.text },
      }),
      ev("content_block_delta", {
        index,
        delta: { type: "signature_delta", signature: r.thinking.signature },
      }),
      ev("content_block_stop", { index }),
    );
    index++;
  }
  const textIndex = index++;
  events.push(
    ev("content_block_start", { index: textIndex, content_block: { type: "text", text: "" } }),
  );
  for (const piece of deltas(r.text)) {
    events.push(
      ev("content_block_delta", { index: textIndex, delta: { type: "text_delta", text: piece } }),
    );
  }
  events.push(ev("content_block_stop", { index: textIndex }));
  if (r.tool) {
    const toolIndex = index++;
    events.push(ev("content_block_start", {
      index: toolIndex,
      content_block: {
        type: "tool_use",
        id: `toolu_${randomId(12)}`,
        name: r.tool.name,
        input: {},
      },
    }));
    const args = JSON.stringify(r.tool.input);
    const cut = Math.ceil(args.length / 3);
    for (let at = 0; at < args.length; at += cut) {
      events.push(ev("content_block_delta", {
        index: toolIndex,
        delta: { type: "input_json_delta", partial_json: args.slice(at, at + cut) },
      }));
    }
    events.push(ev("content_block_stop", { index: toolIndex }));
  }
  events.push(
    ev("message_delta", {
      delta: { stop_reason: r.tool ? "tool_use" : "end_turn", stop_sequence: null },
      usage: { output_tokens: r.usage.output_tokens },
    }),
    ev("message_stop", {}),
  );
  return events;
}

export function anthropicError(type: string, message: string, status: number): Response {
  return Response.json({ type: "error", error: { type, message } }, { status });
}

/**
 * The neutral answer written for an Anthropic Messages client (Claude Code,
 * @anthropic-ai/sdk): a `message` object, or message_start,
 * content_block_start/delta/stop per block, message_delta (stop reason and
 * the whole usage: other backends report input tokens only at the end) and
 * message_stop.
 */
import { encodeEvent } from "../../sse.ts";
import { CUT_SHORT, EMPTY_USAGE } from "../neutral.ts";
import type {
  FinishReason,
  NeutralAnswer,
  NeutralEvent,
  NeutralUsage,
  StreamEncoder,
} from "../neutral.ts";
import { type JsonObject, newId, parseArguments } from "../util.ts";

export function messagesUsageOut(u: NeutralUsage): JsonObject {
  return {
    input_tokens: Math.max(0, u.input - u.cacheRead - u.cacheWrite),
    cache_creation_input_tokens: u.cacheWrite,
    cache_read_input_tokens: u.cacheRead,
    output_tokens: u.output,
  };
}

const STOP: Record<FinishReason, string> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  content_filter: "refusal",
};

/** Arguments that are not a JSON object (a model's slip) still reach the client, wrapped. */
function inputOf(args: string): unknown {
  try {
    return parseArguments(args, "arguments");
  } catch {
    return { arguments: args };
  }
}

export function writeMessagesAnswer(a: NeutralAnswer, model: string): JsonObject {
  const content: JsonObject[] = [];
  if (a.reasoning !== "") content.push({ type: "thinking", thinking: a.reasoning, signature: "" });
  const text = a.text + a.refusal;
  if (text !== "" || a.toolCalls.length === 0) content.push({ type: "text", text });
  for (const c of a.toolCalls) {
    content.push({ type: "tool_use", id: c.id, name: c.name, input: inputOf(c.arguments) });
  }
  return {
    id: a.id.startsWith("msg_") ? a.id : `msg_${a.id}`,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: STOP[a.finish],
    stop_sequence: null,
    usage: messagesUsageOut(
      a.usage ?? EMPTY_USAGE,
    ),
  };
}

export class MessagesStreamEncoder implements StreamEncoder {
  #started = false;
  #done = false;
  #next = 0;
  /** The open text or thinking block (tool blocks stay open: their arguments may interleave). */
  #current: { kind: "text" | "thinking"; index: number } | undefined;
  #tools = new Map<number, number>();
  #usage: NeutralUsage | undefined;

  constructor(private readonly model: string) {}

  #ev(type: string, data: JsonObject): string {
    return encodeEvent(JSON.stringify({ type, ...data }), type);
  }

  #start(id = newId("msg_")): string {
    if (this.#started) return "";
    this.#started = true;
    return this.#ev("message_start", {
      message: {
        id: id.startsWith("msg_") ? id : `msg_${id}`,
        type: "message",
        role: "assistant",
        model: this.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: 0,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          output_tokens: 0,
        },
      },
    });
  }

  #close(): string {
    if (!this.#current) return "";
    const index = this.#current.index;
    this.#current = undefined;
    return this.#ev("content_block_stop", { index });
  }

  #open(kind: "text" | "thinking"): { out: string; index: number } {
    if (this.#current?.kind === kind) return { out: "", index: this.#current.index };
    let out = this.#start() + this.#close();
    const index = this.#next++;
    this.#current = { kind, index };
    const block = kind === "text"
      ? { type: "text", text: "" }
      : { type: "thinking", thinking: "", signature: "" };
    out += this.#ev("content_block_start", { index, content_block: block });
    return { out, index };
  }

  push(e: NeutralEvent): string {
    if (this.#done) return "";
    switch (e.type) {
      case "start":
        return this.#start(e.id);
      case "text":
      case "refusal": {
        const { out, index } = this.#open("text");
        // The most frequent event, written directly.
        return out + 'event: content_block_delta\ndata: {"type":"content_block_delta","index":' +
          `${index},"delta":{"type":"text_delta","text":${JSON.stringify(e.delta)}}}\n\n`;
      }
      case "reasoning": {
        const { out, index } = this.#open("thinking");
        return out +
          this.#ev("content_block_delta", {
            index,
            delta: { type: "thinking_delta", thinking: e.delta },
          });
      }
      case "tool_start": {
        const out = this.#start() + this.#close();
        const index = this.#next++;
        this.#tools.set(e.index, index);
        return out + this.#ev("content_block_start", {
          index,
          content_block: { type: "tool_use", id: e.id, name: e.name, input: {} },
        });
      }
      case "tool_args": {
        const index = this.#tools.get(e.index);
        if (index === undefined) return "";
        return this.#ev("content_block_delta", {
          index,
          delta: { type: "input_json_delta", partial_json: e.delta },
        });
      }
      case "usage":
        this.#usage = e.usage;
        return "";
      case "finish": {
        this.#done = true;
        let out = this.#start() + this.#close();
        for (const index of this.#tools.values()) out += this.#ev("content_block_stop", { index });
        const usage = messagesUsageOut(
          this.#usage ?? EMPTY_USAGE,
        );
        return out +
          this.#ev("message_delta", {
            delta: { stop_reason: STOP[e.finish], stop_sequence: null },
            usage,
          }) +
          this.#ev("message_stop", {});
      }
      case "error":
        this.#done = true;
        return this.#ev("error", {
          error: { type: anthropicType(e.errorType), message: e.message },
        });
    }
  }

  end(): string {
    return this.fail(CUT_SHORT.code, CUT_SHORT.message);
  }

  fail(_code: string, message: string): string {
    if (this.#done) return "";
    this.#done = true;
    return this.#ev("error", { error: { type: "api_error", message } });
  }
}

const ANTHROPIC_TYPES = new Set([
  "invalid_request_error",
  "authentication_error",
  "permission_error",
  "not_found_error",
  "request_too_large",
  "rate_limit_error",
  "api_error",
  "overloaded_error",
]);

/** An error type Anthropic's SDK knows (others become api_error). */
export function anthropicType(type: string): string {
  return ANTHROPIC_TYPES.has(type) ? type : "api_error";
}

/**
 * The neutral representation every API translation goes through: a client
 * request in any of the three API shapes (Chat Completions, Responses,
 * Anthropic Messages) is read into a NeutralRequest, and a backend's answer
 * (JSON or stream) into a NeutralAnswer or NeutralEvents, which are written
 * out in the client's shape. Each API has one reader and one writer per
 * direction (docs/api.md#api-translation), so adding an API
 * costs four small modules, not one converter per pair.
 *
 * Deliberately small: only what all three APIs can express. Opaque
 * per-provider state (Claude thinking signatures, Codex encrypted reasoning
 * items) cannot cross providers and is dropped from translated history.
 */
import { badRequest, type KleisError } from "../errors.ts";

export interface TextPart {
  type: "text";
  text: string;
}

/** An image as a URL (http(s) or data:). */
export interface ImagePart {
  type: "image";
  url: string;
  detail?: string;
}

export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as a JSON text, as the model produced them. */
  arguments: string;
}

export type NeutralMessage =
  | { role: "user"; content: ContentPart[] }
  | { role: "assistant"; content: TextPart[]; toolCalls: ToolCall[] }
  | { role: "tool"; callId: string; content: ContentPart[]; isError?: boolean };

export interface NeutralTool {
  name: string;
  description?: string;
  /** JSON schema of the arguments. */
  parameters: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = "auto" | "none" | "required" | { name: string };

export type ResponseFormat =
  | { type: "json_object" }
  | {
    type: "json_schema";
    name: string;
    schema: Record<string, unknown>;
    strict?: boolean;
    description?: string;
  };

export type ReasoningEffort = "none" | "minimal" | "low" | "medium" | "high" | "xhigh";

export interface NeutralRequest {
  /** System / developer instructions, in order. */
  system: string[];
  messages: NeutralMessage[];
  tools: NeutralTool[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  reasoningEffort?: ReasoningEffort;
  maxTokens?: number;
  stop?: string[];
  temperature?: number;
  topP?: number;
  stream: boolean;
  /** Chat Completions clients ask for a final usage chunk. */
  includeUsage: boolean;
  /** The client's conversation id (prompt cache key / user), for account affinity. */
  session?: string;
}

/** Token usage; `input` counts every prompt token, cache reads and writes included. */
export interface NeutralUsage {
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
  reasoning: number;
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export interface NeutralAnswer {
  id: string;
  model: string;
  /** Unix seconds. */
  created: number;
  text: string;
  reasoning: string;
  refusal: string;
  toolCalls: ToolCall[];
  finish: FinishReason;
  usage?: NeutralUsage;
}

/** Stream events, in the order a backend produces them. */
export type NeutralEvent =
  | { type: "start"; id: string; model: string; created: number }
  | { type: "text"; delta: string }
  | { type: "reasoning"; delta: string }
  | { type: "refusal"; delta: string }
  /** `index` counts tool calls of this answer from 0. */
  | { type: "tool_start"; index: number; id: string; name: string }
  | { type: "tool_args"; index: number; delta: string }
  | { type: "usage"; usage: NeutralUsage }
  | { type: "finish"; finish: FinishReason }
  | { type: "error"; status: number; errorType: string; message: string };

/** Reads a backend's stream, event by event. */
export interface StreamDecoder {
  /** The neutral events of one backend SSE event (often none, sometimes several). */
  push(data: string | null, event: string | undefined): NeutralEvent[];
  /** The backend's stream ended: events owed (a finish without a terminal event, ...). */
  end(): NeutralEvent[];
}

/** Writes the client's stream. */
export interface StreamEncoder {
  /** SSE text for one neutral event ("" for none). */
  push(event: NeutralEvent): string;
  /** SSE text the client still needs when the stream ends normally. */
  end(): string;
  /** An error event in the client's shape, ending the stream (stall, broken backend). */
  fail(code: string, message: string): string;
}

/** What a client is told when the backend's stream ends before the answer's end. */
export const CUT_SHORT = {
  code: "incomplete_response",
  message: "The backend ended its stream before the answer was complete.",
} as const;

export const EMPTY_USAGE: NeutralUsage = {
  input: 0,
  cacheRead: 0,
  cacheWrite: 0,
  output: 0,
  reasoning: 0,
};

/**
 * The one error of translation: something the client sent has no
 * equivalent in the backend's API. A 400 naming the field; nothing is sent.
 */
export function untranslatable(field: string, what: string): KleisError {
  return badRequest("unsupported_field", `"${field}" ${what}`);
}

/**
 * Token usage read from answers, normalised as docs/api.md#usage-and-audit counts it: input
 * tokens exclude cache reads and writes, which are counted apart, so the four
 * numbers add up to everything billed.
 *
 * - Responses shape (Codex, Copilot): `usage.input_tokens` includes
 *   `input_tokens_details.cached_tokens`; found in response.completed
 *   (or .incomplete/.failed) events and in JSON answers.
 * - Messages shape (Claude, Copilot): `input_tokens` already excludes
 *   `cache_read_input_tokens` and `cache_creation_input_tokens`; found in
 *   message_start (input side) and message_delta (output, cumulative).
 * - Chat shape (Copilot): `prompt_tokens` includes
 *   `prompt_tokens_details.cached_tokens`; in the last chunk of a stream.
 *
 * Stream events are scanned as they pass (never held): only events whose
 * data mentions "usage" are parsed.
 */
import type { AnswerShape } from "../providers/proxy_types.ts";
import { parseEvent, type SseEvent } from "../sse.ts";
import { isObject, type JsonObject, parseJsonObject } from "../json.ts";

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

type Obj = JsonObject;

const obj = (value: unknown): Obj | undefined => isObject(value) ? value : undefined;

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Text every event or answer that carries token usage contains. */
export const USAGE_MARKER = '"usage"';

export class UsageMeter {
  #usage: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

  constructor(private readonly shape: AnswerShape) {}

  get usage(): TokenUsage {
    return { ...this.#usage };
  }

  /** One event of a stream, as its exact text: parsed only when it mentions usage. */
  observeRaw(raw: string): void {
    if (this.shape === "count_tokens" || raw.indexOf(USAGE_MARKER) < 0) return;
    this.observeEvent(parseEvent(raw));
  }

  /** One event of a stream. */
  observeEvent(event: SseEvent): void {
    const data = event.data;
    if (data === null || this.shape === "count_tokens" || data.indexOf(USAGE_MARKER) < 0) return;
    const parsed = parseJsonObject(data);
    if (!parsed) return;
    if (this.shape === "responses") {
      const type = parsed["type"];
      if (
        type === "response.completed" || type === "response.incomplete" ||
        type === "response.failed"
      ) {
        this.#responses(obj(obj(parsed["response"])?.["usage"]));
      }
    } else if (this.shape === "messages") {
      if (parsed["type"] === "message_start") {
        this.#messages(obj(obj(parsed["message"])?.["usage"]));
      } else if (parsed["type"] === "message_delta") {
        this.#messages(obj(parsed["usage"]));
      }
    } else {
      this.#chat(obj(parsed["usage"]));
    }
  }

  /** A whole JSON answer. */
  observeJson(body: unknown): void {
    const usage = obj(obj(body)?.["usage"]);
    if (!usage) return;
    if (this.shape === "responses") this.#responses(usage);
    else if (this.shape === "messages") this.#messages(usage);
    else if (this.shape === "chat") this.#chat(usage);
  }

  #responses(usage: Obj | undefined): void {
    if (!usage) return;
    const input = num(usage["input_tokens"]) ?? 0;
    const cached = num(obj(usage["input_tokens_details"])?.["cached_tokens"]) ?? 0;
    this.#usage = {
      inputTokens: Math.max(0, input - cached),
      cacheReadTokens: cached,
      cacheWriteTokens: 0,
      outputTokens: num(usage["output_tokens"]) ?? 0,
    };
  }

  /** message_start carries the input side; message_delta the (cumulative) output, sometimes more. */
  #messages(usage: Obj | undefined): void {
    if (!usage) return;
    const u = this.#usage;
    u.inputTokens = num(usage["input_tokens"]) ?? u.inputTokens;
    u.cacheReadTokens = num(usage["cache_read_input_tokens"]) ?? u.cacheReadTokens;
    u.cacheWriteTokens = num(usage["cache_creation_input_tokens"]) ?? u.cacheWriteTokens;
    u.outputTokens = num(usage["output_tokens"]) ?? u.outputTokens;
  }

  #chat(usage: Obj | undefined): void {
    if (!usage) return;
    const prompt = num(usage["prompt_tokens"]) ?? 0;
    const cached = num(obj(usage["prompt_tokens_details"])?.["cached_tokens"]) ?? 0;
    this.#usage = {
      inputTokens: Math.max(0, prompt - cached),
      cacheReadTokens: cached,
      cacheWriteTokens: 0,
      outputTokens: num(usage["completion_tokens"]) ?? 0,
    };
  }
}

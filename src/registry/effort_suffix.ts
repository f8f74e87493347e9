/**
 * Reasoning effort named by a model id suffix (docs/api.md#reasoning-effort-suffixes):
 * `gpt-5.5-high`, `gpt-5-mini-low`, `claude-sonnet-4-5-thinking`.
 *
 * Two families, by the base model's name, because the two kinds of backend
 * take different fields: OpenAI-family models (Codex, Copilot's GPT and
 * other non-Claude models) take an effort level (`reasoning.effort` on
 * Responses, `reasoning_effort` on Chat Completions); Claude models take a
 * thinking budget (`thinking.budget_tokens` on Messages), so their suffix is
 * `-thinking` with an optional level.
 *
 * This module only splits names; whether the base is a model Kleis offers
 * (the condition for stripping) is decided by the caller.
 */
import type { ReasoningEffort } from "../translate/neutral.ts";

export type EffortFamily = "openai" | "claude";

export interface EffortSplit {
  /** The model id without the suffix. */
  base: string;
  effort: ReasoningEffort;
  family: EffortFamily;
  /** The suffix as written, e.g. "-high". */
  suffix: string;
}

/** OpenAI's effort levels Kleis accepts as a suffix; the backend decides which a model takes. */
const OPENAI_SUFFIXES: readonly [string, ReasoningEffort][] = [
  ["-minimal", "minimal"],
  ["-low", "low"],
  ["-medium", "medium"],
  ["-high", "high"],
  ["-xhigh", "xhigh"],
];

/** Longest first, so `-thinking-high` is not read as `-thinking` of "...-high". */
const CLAUDE_SUFFIXES: readonly [string, ReasoningEffort][] = [
  ["-thinking-low", "low"],
  ["-thinking-medium", "medium"],
  ["-thinking-high", "high"],
  ["-thinking", "medium"],
];

const isClaudeModel = (model: string) => model.startsWith("claude-");

/** The suffix and base of a model id, when it ends in a suffix of its family. */
export function splitEffortSuffix(model: string): EffortSplit | undefined {
  for (const [suffix, effort] of CLAUDE_SUFFIXES) {
    if (!model.endsWith(suffix)) continue;
    const base = model.slice(0, -suffix.length);
    if (isClaudeModel(base)) return { base, effort, family: "claude", suffix };
  }
  for (const [suffix, effort] of OPENAI_SUFFIXES) {
    if (!model.endsWith(suffix)) continue;
    const base = model.slice(0, -suffix.length);
    if (base !== "" && !isClaudeModel(base)) return { base, effort, family: "openai", suffix };
  }
  return undefined;
}

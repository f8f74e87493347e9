/**
 * Writes the reasoning effort a model suffix asked for into a request body
 * in the API it is sent in (docs/api.md#reasoning-effort-suffixes):
 *
 * - Responses (Codex, Copilot's Responses models): `reasoning.effort`, other
 *   `reasoning` fields (summary) kept;
 * - Chat Completions (Copilot): `reasoning_effort`;
 * - Messages (Claude, Copilot's Claude models): `thinking: {type: "enabled",
 *   budget_tokens}` with the translation's budgets. Anthropic counts thinking
 *   against `max_tokens` and refuses a budget that is not below it (and under
 *   1024), so a `max_tokens` at or under the budget is raised by the budget,
 *   within the model's output limit. Temperature (other than 1), `top_k` and a
 *   `top_p` under 0.95 are dropped, as Anthropic refuses them with thinking. A
 *   forced tool choice, which Anthropic refuses with thinking, leaves the
 *   body without thinking (as the translation does).
 *
 * The suffix wins over an effort the body already names: clients such as the
 * Codex CLI send their default effort with every request, and the model name
 * is the deliberate choice.
 */
import { badRequest } from "../errors.ts";
import { isObject, type JsonObject } from "../json.ts";
import type { ReasoningEffort } from "../translate/neutral.ts";
import type { ApiShape } from "../translate/translation.ts";
import { THINKING_BUDGETS } from "../translate/messages/request_write.ts";
import type { EffortFamily } from "../registry/effort_suffix.ts";

/** Anthropic's smallest thinking budget. */
const MIN_BUDGET = 1024;

export function unsupportedEffort(message: string) {
  return badRequest("unsupported_effort", message);
}

function withThinking(body: JsonObject, effort: ReasoningEffort, outputLimit?: number): JsonObject {
  const choice = isObject(body["tool_choice"]) ? body["tool_choice"]["type"] : undefined;
  if (choice === "tool" || choice === "any") return body;
  let budget = THINKING_BUDGETS[effort];
  if (budget === undefined) {
    throw unsupportedEffort(`The effort "${effort}" has no thinking budget on a Claude model.`);
  }
  const out: JsonObject = { ...body };
  const max = body["max_tokens"];
  if (typeof max === "number" && max <= budget) {
    let raised = max + budget;
    if (outputLimit !== undefined && raised > outputLimit) {
      raised = outputLimit;
      budget = Math.min(budget, Math.floor(outputLimit / 2));
    }
    out["max_tokens"] = raised;
  }
  if (budget < MIN_BUDGET) {
    throw unsupportedEffort("The model's output limit leaves no room for a thinking budget.");
  }
  out["thinking"] = { type: "enabled", budget_tokens: budget };
  if (out["temperature"] !== undefined && out["temperature"] !== 1) delete out["temperature"];
  delete out["top_k"];
  if (typeof out["top_p"] === "number" && out["top_p"] < 0.95) delete out["top_p"];
  return out;
}

/** The body with the effort written in `api`'s own field. */
export function applyEffort(
  api: ApiShape,
  body: JsonObject,
  effort: ReasoningEffort,
  family: EffortFamily,
  outputLimit?: number,
): JsonObject {
  if (api === "messages") {
    if (family !== "claude") {
      throw unsupportedEffort("An effort suffix of this model cannot be sent as Claude thinking.");
    }
    return withThinking(body, effort, outputLimit);
  }
  if (family === "claude") {
    throw unsupportedEffort(
      "Claude thinking is set through the Messages API: use a /messages route or a /v1 route.",
    );
  }
  if (api === "chat") return { ...body, reasoning_effort: effort };
  const reasoning = isObject(body["reasoning"]) ? body["reasoning"] : {};
  return { ...body, reasoning: { ...reasoning, effort } };
}

/**
 * The fakes take the reasoning fields as the real backends do and refuse
 * the rest: Responses `reasoning`, Chat `reasoning_effort`, Messages
 * `thinking`, and Copilot's per-model efforts and thinking budgets.
 */
import assert from "node:assert/strict";
import { checkChatBody, checkMessagesBody, checkResponsesBody } from "./strict_shapes.ts";
import { COPILOT_MODELS, copilotReasoningError } from "./copilot_models.ts";

const user = [{ role: "user", content: "hi" }];

Deno.test("Responses reasoning: an object of effort and summary with known values", () => {
  const check = (reasoning: unknown) => checkResponsesBody({ model: "m", input: "hi", reasoning });
  for (const effort of ["none", "minimal", "low", "medium", "high", "xhigh"]) {
    assert.equal(check({ effort, summary: "auto" }), undefined, effort);
  }
  assert.match(check({ effort: "max" }) ?? "", /Invalid value: 'max'/);
  assert.match(check({ effort: "high", budget: 5 }) ?? "", /reasoning\.budget/);
  assert.match(check({ summary: "verbose" }) ?? "", /reasoning\.summary/);
  assert.match(check("high") ?? "", /expected an object/);
});

Deno.test("Chat reasoning_effort: a known level", () => {
  assert.equal(checkChatBody({ model: "m", messages: user, reasoning_effort: "low" }), undefined);
  assert.match(
    checkChatBody({ model: "m", messages: user, reasoning_effort: "extreme" }) ?? "",
    /Invalid value: 'extreme'/,
  );
});

Deno.test("Messages thinking: Anthropic's shape and its rules", () => {
  const body = (thinking: unknown, extra: Record<string, unknown> = {}) => ({
    model: "m",
    max_tokens: 4000,
    messages: user,
    thinking,
    ...extra,
  });
  const enabled = { type: "enabled", budget_tokens: 2048 };
  assert.equal(checkMessagesBody(body(enabled)), undefined);
  assert.equal(checkMessagesBody(body({ type: "disabled" })), undefined);
  assert.equal(checkMessagesBody(body({ type: "adaptive" })), undefined);
  assert.equal(checkMessagesBody(body({ type: "adaptive", display: "omitted" })), undefined);
  assert.equal(checkMessagesBody(body({ ...enabled, display: "summarized" })), undefined);
  assert.equal(checkMessagesBody(body(enabled, { temperature: 1, top_p: 0.95 })), undefined);
  const refused: [unknown, Record<string, unknown>, RegExp][] = [
    [{ type: "enabled" }, {}, /valid integer/],
    [{ type: "enabled", budget_tokens: 512 }, {}, /greater than or equal to 1024/],
    [{ type: "enabled", budget_tokens: 4000 }, {}, /max_tokens/],
    [{ ...enabled, effort: "high" }, {}, /thinking\.enabled\.effort/],
    [{ type: "disabled", budget_tokens: 2048 }, {}, /thinking\.disabled\.budget_tokens/],
    [{ type: "on" }, {}, /does not match/],
    [{ type: "adaptive", display: "full" }, {}, /display/],
    [enabled, { temperature: 0.5 }, /temperature/],
    [enabled, { top_k: 5 }, /top_k/],
    [enabled, { top_p: 0.5 }, /top_p/],
    [enabled, { tool_choice: { type: "any" } }, /tool_choice/],
  ];
  for (const [thinking, extra, message] of refused) {
    assert.match(checkMessagesBody(body(thinking, extra)) ?? "", message, JSON.stringify(thinking));
  }
  // count_tokens takes thinking without max_tokens.
  assert.equal(
    checkMessagesBody({ model: "m", messages: user, thinking: enabled }, true),
    undefined,
  );
});

Deno.test("Copilot refuses reasoning fields a model does not take", () => {
  const model = (id: string) => COPILOT_MODELS.find((m) => m.id === id)!;
  assert.equal(
    copilotReasoningError(model("gpt-5-mini"), { reasoning: { effort: "low" } }),
    undefined,
  );
  assert.match(
    copilotReasoningError(model("gpt-5-mini"), { reasoning: { effort: "xhigh" } }) ?? "",
    /'xhigh' is not supported/,
  );
  assert.match(
    copilotReasoningError(model("gpt-4.1"), { reasoning_effort: "low" }) ?? "",
    /not supported by model gpt-4.1/,
  );
  const thinking = (budget: number) => ({ thinking: { type: "enabled", budget_tokens: budget } });
  assert.equal(copilotReasoningError(model("claude-sonnet-4.5"), thinking(8192)), undefined);
  assert.match(copilotReasoningError(model("claude-sonnet-4.5"), thinking(64000)) ?? "", /at most/);
  assert.match(copilotReasoningError(model("gpt-4o"), thinking(2048)) ?? "", /not supported/);
});

import assert from "node:assert/strict";
import { codexLimitOverride, isCodexSubscriptionModel } from "../../src/providers/codex/models.ts";
import { copilotApiKind, parseCopilotModels } from "../../src/providers/copilot/models.ts";
import { COPILOT_MODELS } from "../fakes/copilot_models.ts";
import { bundledCatalog } from "../../src/registry/bundled_catalog.ts";
import { factsOf } from "../../src/registry/kleis_provider.ts";

Deno.test("isCodexSubscriptionModel() keeps the listed models and newer gpt-X.Y, never -pro", () => {
  for (
    const id of [
      "gpt-5.2",
      "gpt-5.3-codex",
      "gpt-5.3-codex-spark",
      "gpt-5.4",
      "gpt-5.4-mini",
      "gpt-5.5",
      "gpt-5.6",
      "gpt-5.10",
      "gpt-6.0",
      "gpt-5.5-mini",
    ]
  ) assert.ok(isCodexSubscriptionModel(id), id);
  for (
    const id of [
      "gpt-5.5-pro",
      "gpt-5.4-pro",
      "gpt-5.1",
      "gpt-5.2-codex",
      "gpt-5",
      "gpt-4o",
      "gpt-4.1",
      "o3",
      "codex-mini-latest",
      "gpt-5.3",
    ]
  ) assert.ok(!isCodexSubscriptionModel(id), id);
  assert.deepEqual(codexLimitOverride("gpt-5.5"), {
    context: 400000,
    input: 272000,
    output: 128000,
  });
});

Deno.test("copilotApiKind() prefers live endpoints, else the naming rule", () => {
  assert.equal(copilotApiKind("gpt-4.1", ["/chat/completions", "/responses"]), "chat");
  assert.equal(copilotApiKind("gpt-5-mini", ["/responses"]), "responses");
  assert.equal(
    copilotApiKind("claude-sonnet-4.5", ["/chat/completions", "/v1/messages"]),
    "messages",
  );
  assert.equal(copilotApiKind("gpt-5.2-codex"), "responses");
  assert.equal(copilotApiKind("claude-haiku-4.5"), "messages");
  assert.equal(copilotApiKind("gpt-4o", []), "chat");
});

Deno.test("parseCopilotModels() drops disabled and malformed items and keeps the limits", () => {
  const parsed = parseCopilotModels({
    data: [...COPILOT_MODELS, { id: 42 }, null, {
      id: "embed",
      capabilities: { type: "embeddings" },
    }],
  });
  assert.deepEqual(parsed.map((m) => m.id), [
    "gpt-4.1",
    "gpt-4o",
    "gpt-5.2",
    "gpt-5.2-codex",
    "gpt-5-mini",
    "claude-sonnet-4.5",
    "claude-haiku-4.5",
  ]);
  assert.deepEqual(parsed[0], {
    id: "gpt-4.1",
    name: "GPT-4.1",
    vendor: "Azure OpenAI",
    preview: false,
    supportedEndpoints: ["/chat/completions", "/responses"],
    contextWindow: 128000,
    maxOutput: 16384,
    maxPrompt: 128000,
    toolCalls: true,
    vision: true,
  });
  assert.throws(() => parseCopilotModels({ models: [] }), /no data array/);
});

Deno.test("every bundled catalog model has usable limits and a release date", () => {
  for (const provider of Object.values(bundledCatalog())) {
    for (const model of Object.values(provider.models)) {
      const facts = factsOf(model);
      assert.ok(facts, model.id);
      assert.match(facts.release_date, /^\d{4}-\d{2}-\d{2}$/);
    }
  }
});

Deno.test("factsOf() refuses a model without limit.output (OpenCode cannot use it)", () => {
  assert.equal(factsOf({ id: "x", name: "X", limit: { context: 1000 } }), undefined);
  assert.equal(factsOf({ id: "x", name: "X" }), undefined);
});

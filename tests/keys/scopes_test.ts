import assert from "node:assert/strict";
import { keyAllowsModel, keyAllowsProvider } from "../../src/keys/scopes.ts";

Deno.test("keyAllowsModel() matches exact ids and globs, plain or as listed", () => {
  const key = { models: ["gpt-5.4*", "anthropic/claude-s*", "copilot/gpt-4.1"] };
  assert.ok(keyAllowsModel(key, "codex", "gpt-5.4"));
  assert.ok(keyAllowsModel(key, "codex", "gpt-5.4-mini"));
  assert.ok(!keyAllowsModel(key, "codex", "gpt-5.5"));
  assert.ok(keyAllowsModel(key, "claude", "claude-sonnet-4-5"));
  assert.ok(!keyAllowsModel(key, "claude", "claude-haiku-4-5"));
  assert.ok(keyAllowsModel(key, "copilot", "gpt-4.1"));
  // The listed prefix belongs to its provider: Codex's gpt-4.1 is not copilot/gpt-4.1.
  assert.ok(!keyAllowsModel(key, "codex", "gpt-4.1"));
  assert.ok(keyAllowsModel({}, "claude", "anything"));
});

Deno.test("keyAllowsModel() treats regex characters in patterns literally, also when repeated", () => {
  const key = { models: ["gpt-5.4"] };
  for (let i = 0; i < 2; i++) {
    assert.ok(keyAllowsModel(key, "codex", "gpt-5.4"));
    assert.ok(!keyAllowsModel(key, "codex", "gpt-5x4"), "the dot is not a wildcard");
    assert.ok(!keyAllowsModel(key, "codex", "gpt-5.4-mini"), "anchored at the end");
  }
  assert.ok(!keyAllowsModel({ models: ["a+"] }, "codex", "aa"));
  assert.ok(keyAllowsModel({ models: ["a+"] }, "codex", "a+"));
});

Deno.test("keyAllowsModel() and keyAllowsProvider() refuse a provider the key lacks", () => {
  const key = { providers: ["codex" as const], models: ["*"] };
  assert.ok(keyAllowsProvider(key, "codex"));
  assert.ok(!keyAllowsProvider(key, "claude"));
  assert.ok(!keyAllowsModel(key, "claude", "claude-sonnet-4-5"));
  assert.ok(keyAllowsModel(key, "codex", "gpt-5.5"));
});

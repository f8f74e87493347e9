/**
 * Aliases and reasoning-effort suffixes through the proxy routes (engine,
 * adapters, strict fakes): what reaches each backend, what the usage event
 * records, which key scopes apply, and the refusals that send nothing.
 */
import assert from "node:assert/strict";
import { startHarness, testKey } from "./harness.ts";
import { CODEX_PATH } from "../fakes/chatgpt.ts";
import { setAlias } from "../../src/registry/alias_service.ts";
import { ALIAS_CACHE_TTL_MS } from "../../src/registry/aliases.ts";

type Body = Record<string, unknown>;
const user = [{ role: "user", content: "hi" }];
const chatBody = (model: string, extra: Body = {}) => ({ model, messages: user, ...extra });
const messagesBody = (model: string, extra: Body = {}) => ({
  model,
  max_tokens: 1000,
  messages: user,
  ...extra,
});
const responsesBody = (model: string, extra: Body = {}) => ({ model, input: "hi", ...extra });

async function setup() {
  const h = await startHarness();
  // A Copilot model that speaks only Chat Completions and takes reasoning efforts.
  const chatModel = structuredClone(h.fakes.copilot.models.find((m) => m.id === "gpt-4o")!);
  chatModel.id = "o4-mini";
  chatModel.capabilities.supports.reasoning_effort = ["low", "medium", "high"];
  h.fakes.copilot.models.push(chatModel);
  await h.codexAccount("cx");
  await h.claudeAccount("cl");
  await h.copilotAccount("cp");
  const codex = () => h.fakes.chatgpt.lastRequest(CODEX_PATH)!.json as Body;
  const claude = () => h.fakes.anthropic.lastRequest("/v1/messages")!.json as Body;
  const copilot = (path: string) => h.fakes.copilot.lastRequest(path)!.json as Body;
  const sent = () =>
    h.fakes.chatgpt.requests.length + h.fakes.anthropic.requests.length +
    h.fakes.copilot.requests.length;
  return { h, codex, claude, copilot, sent };
}

async function ok(res: Response) {
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text;
}

Deno.test("effort suffixes reach each backend's own field", async (t) => {
  const { h, codex, claude, copilot, sent } = await setup();
  await using _h = h;
  const last = () => h.usage.at(-1)!;

  await t.step("Codex Responses: reasoning.effort, over the body's own, summary kept", async () => {
    await ok(
      await h.request(
        "/openai/v1/responses",
        responsesBody("gpt-5.5-high", { reasoning: { effort: "low", summary: "auto" } }),
      ),
    );
    assert.equal(codex().model, "gpt-5.5");
    assert.deepEqual(codex().reasoning, { effort: "high", summary: "auto" });
    assert.equal(last().model, "gpt-5.5");
    assert.equal(last().provider, "codex");
  });

  await t.step("a Chat client on a Codex model: translated, effort carried", async () => {
    await ok(await h.request("/v1/chat/completions", chatBody("gpt-5.5-xhigh")));
    assert.equal(codex().model, "gpt-5.5");
    assert.equal((codex().reasoning as Body).effort, "xhigh");
  });

  await t.step("Copilot Responses (gpt-5-mini) through /v1/responses", async () => {
    await ok(await h.request("/v1/responses", responsesBody("copilot/gpt-5-mini-low")));
    assert.equal(copilot("/responses").model, "gpt-5-mini");
    assert.deepEqual(copilot("/responses").reasoning, { effort: "low" });
    assert.equal(last().model, "gpt-5-mini");
  });

  await t.step("Copilot Chat Completions: reasoning_effort, over the body's own", async () => {
    const body = chatBody("o4-mini-high", { reasoning_effort: "low" });
    await ok(await h.request("/copilot/v1/chat/completions", body));
    assert.equal(copilot("/chat/completions").model, "o4-mini");
    assert.equal(copilot("/chat/completions").reasoning_effort, "high");
  });

  await t.step(
    "Claude Messages: thinking budget, max_tokens raised, temperature dropped",
    async () => {
      const body = messagesBody("claude-sonnet-4-5-thinking", { temperature: 0.2, top_k: 5 });
      await ok(await h.request("/anthropic/v1/messages", body));
      const got = claude();
      assert.equal(got.model, "claude-sonnet-4-5");
      assert.deepEqual(got.thinking, { type: "enabled", budget_tokens: 8192 });
      assert.equal(got.max_tokens, 1000 + 8192);
      assert.equal(got.temperature, undefined);
      assert.equal(got.top_k, undefined);
      assert.equal(last().model, "claude-sonnet-4-5");
    },
  );

  await t.step(
    "Claude: a max_tokens above the budget stays; the body's thinking is replaced",
    async () => {
      const body = messagesBody("claude-sonnet-4-5-thinking-high", {
        max_tokens: 30000,
        thinking: { type: "enabled", budget_tokens: 2000 },
      });
      await ok(await h.request("/anthropic/v1/messages", body));
      assert.deepEqual(claude().thinking, { type: "enabled", budget_tokens: 16384 });
      assert.equal(claude().max_tokens, 30000);
    },
  );

  await t.step(
    "Claude: a forced tool choice leaves thinking out (Anthropic refuses both)",
    async () => {
      const tools = [{ name: "read", input_schema: { type: "object" } }];
      const body = messagesBody("claude-sonnet-4-5-thinking", {
        tools,
        tool_choice: { type: "any" },
      });
      await ok(await h.request("/anthropic/v1/messages", body));
      assert.equal(claude().thinking, undefined);
      assert.equal(claude().model, "claude-sonnet-4-5");
    },
  );

  await t.step("a Chat client on a Claude model: translated with the level's budget", async () => {
    await ok(await h.request("/v1/chat/completions", chatBody("claude-sonnet-4-5-thinking-low")));
    assert.deepEqual(claude().thinking, { type: "enabled", budget_tokens: 2048 });
  });

  await t.step("Copilot Claude with a Chat client goes through Copilot's Messages", async () => {
    const before = h.fakes.copilot.requests.filter((r) => r.path === "/chat/completions").length;
    await ok(
      await h.request("/v1/chat/completions", chatBody("copilot/claude-sonnet-4.5-thinking")),
    );
    const got = copilot("/v1/messages");
    assert.equal(got.model, "claude-sonnet-4.5");
    assert.deepEqual(got.thinking, { type: "enabled", budget_tokens: 8192 });
    const after = h.fakes.copilot.requests.filter((r) => r.path === "/chat/completions").length;
    assert.equal(after, before);
  });

  await t.step("Copilot's own Messages route", async () => {
    await ok(await h.request("/copilot/v1/messages", messagesBody("claude-haiku-4.5-thinking")));
    assert.equal(copilot("/v1/messages").model, "claude-haiku-4.5");
    assert.deepEqual(copilot("/v1/messages").thinking, { type: "enabled", budget_tokens: 8192 });
  });

  await t.step("count_tokens strips the suffix and sends no thinking", async () => {
    const body = { model: "claude-sonnet-4-5-thinking", messages: user };
    await ok(await h.request("/v1/messages/count_tokens", body));
    const got = h.fakes.anthropic.lastRequest("/v1/messages/count_tokens")!.json as Body;
    assert.equal(got.model, "claude-sonnet-4-5");
    assert.equal(got.thinking, undefined);
  });

  await t.step("refusals: 400 unsupported_effort, nothing sent", async () => {
    const before = sent();
    const cases: [string, Body][] = [
      // Claude thinking has no Chat Completions field on Copilot's native chat route.
      ["/copilot/v1/chat/completions", chatBody("claude-sonnet-4.5-thinking")],
      // gpt-4.1 does not reason.
      ["/copilot/v1/chat/completions", chatBody("gpt-4.1-high")],
      ["/v1/chat/completions", chatBody("copilot/gpt-4.1-low")],
    ];
    for (const [path, body] of cases) {
      const res = await h.request(path, body);
      const answer = await res.json();
      assert.equal(res.status, 400, JSON.stringify(answer));
      assert.equal(answer.error.code, "unsupported_effort");
    }
    assert.equal(sent(), before);
  });

  await t.step("an id that is not a suffixed offer passes on unchanged", async () => {
    // Nobody offers "gpt-9": the backend decides (the Codex fake takes any model).
    await h.request("/openai/v1/responses", responsesBody("gpt-9-high"));
    assert.equal(codex().model, "gpt-9-high");
    assert.equal(codex().reasoning, undefined);
  });

  await t.step("scopes are matched on the base model", async () => {
    h.key = testKey({ models: ["gpt-5.5"] });
    await ok(await h.request("/openai/v1/responses", responsesBody("gpt-5.5-medium")));
    const res = await h.request("/v1/chat/completions", chatBody("claude-sonnet-4-5-thinking"));
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.code, "model_not_allowed");
    h.key = testKey();
  });
});

Deno.test("aliases on native and translating routes", async (t) => {
  const { h, codex, copilot } = await setup();
  await using _h = h;
  const last = () => h.usage.at(-1)!;
  await setAlias(h.deps, "fast", { target: "copilot/gpt-5-mini" });
  await setAlias(h.deps, "deep", { target: "codex/gpt-5.5-high" });
  await setAlias(h.deps, "sonnet", { target: "anthropic/claude-sonnet-4-5" });

  await t.step(
    "a /v1 route: the target's provider and model; usage records the target",
    async () => {
      const text = await ok(await h.request("/v1/chat/completions", chatBody("fast")));
      assert.match(text, /Hello from fake Copilot/);
      assert.equal(copilot("/responses").model, "gpt-5-mini");
      assert.equal(last().provider, "copilot");
      assert.equal(last().model, "gpt-5-mini");
    },
  );

  await t.step("the target's own provider route takes it", async () => {
    await ok(await h.request("/copilot/v1/responses", responsesBody("fast")));
    assert.equal(copilot("/responses").model, "gpt-5-mini");
  });

  await t.step("another provider's route: 400 wrong_provider, nothing sent", async () => {
    const before = h.fakes.chatgpt.requests.length;
    const res = await h.request("/openai/v1/responses", responsesBody("fast"));
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, "wrong_provider");
    assert.equal(h.fakes.chatgpt.requests.length, before);
  });

  await t.step("an alias of a suffixed model carries the effort", async () => {
    await ok(await h.request("/v1/responses", responsesBody("deep")));
    assert.equal(codex().model, "gpt-5.5");
    assert.equal((codex().reasoning as Body).effort, "high");
  });

  await t.step("an Anthropic client through /anthropic/v1/messages", async () => {
    await ok(await h.request("/anthropic/v1/messages", messagesBody("sonnet")));
    const got = h.fakes.anthropic.lastRequest("/v1/messages")!.json as Body;
    assert.equal(got.model, "claude-sonnet-4-5");
  });

  await t.step("a prefixed id never names an alias", async () => {
    const res = await h.request("/v1/chat/completions", chatBody("copilot/fast"));
    // Sent on as Copilot's model "fast", which Copilot refuses; not as the alias's target.
    assert.equal(res.status, 400, await res.text());
    assert.equal(copilot("/chat/completions").model, "fast");
    assert.equal(last().provider, "copilot");
    assert.equal(last().model, "fast");
  });

  await t.step("key scopes apply to the target, never to the alias name", async () => {
    const cases: [Parameters<typeof testKey>[0], number, string?][] = [
      [{ models: ["copilot/gpt-5-*"] }, 200],
      [{ models: ["gpt-5.5"] }, 403, "model_not_allowed"],
      [{ models: ["fast"] }, 403, "model_not_allowed"],
      [{ providers: ["codex"] }, 403, "provider_not_allowed"],
    ];
    for (const [scope, status, code] of cases) {
      h.key = testKey(scope);
      const res = await h.request("/v1/chat/completions", chatBody("fast"));
      const body = await res.text();
      assert.equal(res.status, status, `${JSON.stringify(scope)}: ${body}`);
      if (code) assert.equal(JSON.parse(body).error.code, code);
    }
    h.key = testKey();
  });

  await t.step("a changed alias is used at once by the instance that changed it", async () => {
    await setAlias(h.deps, "fast", { target: "codex/gpt-5.5" });
    await ok(await h.request("/v1/chat/completions", chatBody("fast")));
    assert.equal(last().provider, "codex");
    assert.equal(codex().model, "gpt-5.5");
    assert.ok(ALIAS_CACHE_TTL_MS <= 1000);
  });
});

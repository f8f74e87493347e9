/**
 * The routes that accept every provider's models, end to end through the
 * proxy (engine, adapters, strict fakes): provider resolution, translation
 * both ways, errors in the client's shape, untranslatable input refused
 * before anything is sent, usage equal to the backend's, stalls and scopes.
 */
import assert from "node:assert/strict";
import { sseData, startHarness, testKey } from "../proxy/harness.ts";
import { CODEX_PATH } from "../fakes/chatgpt.ts";
import { registryDocument } from "../../src/registry/service.ts";

const schema = { type: "object", properties: { path: { type: "string" } }, required: ["path"] };
const chatTools = [{ type: "function", function: { name: "read", parameters: schema } }];
const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content: "please use tool" }],
  tools: chatTools,
  ...extra,
});

Deno.test("generic routes pick the provider by model id", async (t) => {
  await using h = await startHarness();
  await h.codexAccount("cx");
  await h.claudeAccount("cl");
  await h.copilotAccount("cp");
  const last = () => h.usage.at(-1)!;

  const cases: [string, string, string, string][] = [
    ["/v1/chat/completions", "gpt-5.5", "codex", "Codex"],
    ["/v1/chat/completions", "claude-sonnet-4-5", "claude", "Claude"],
    ["/v1/chat/completions", "copilot/gpt-4.1", "copilot", "Copilot"],
    ["/v1/chat/completions", "gpt-5.2", "codex", "Codex"], // on Codex and Copilot: Codex first
    ["/v1/chat/completions", "claude-sonnet-4.5", "copilot", "Copilot"], // Copilot's dotted id
    ["/openai/v1/chat/completions", "anthropic/claude-sonnet-4-5", "claude", "Claude"],
    ["/anthropic/v1/messages", "gpt-5.5", "codex", "Codex"],
    ["/anthropic/v1/messages", "codex/gpt-5.5", "codex", "Codex"],
  ];
  for (const [path, model, provider, word] of cases) {
    await t.step(`${path} with "${model}" → ${provider}`, async () => {
      const body = path.endsWith("/messages")
        ? { model, max_tokens: 100, messages: [{ role: "user", content: "hi" }] }
        : { model, messages: [{ role: "user", content: "hi" }] };
      const res = await h.request(path, body);
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.match(text, new RegExp(`Hello from fake ${word}`));
      assert.equal(last().provider, provider);
      assert.equal(last().endpoint, path);
    });
  }

  await t.step("an id no provider offers → 400 in the route's shape, nothing sent", async () => {
    const before = h.fakes.chatgpt.requests.length + h.fakes.anthropic.requests.length;
    const res = await h.request("/v1/messages", { model: "llama-3", max_tokens: 5, messages: [] });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.type, "error");
    assert.match(body.error.message, /llama-3/);
    assert.equal(h.fakes.chatgpt.requests.length + h.fakes.anthropic.requests.length, before);
  });

  await t.step("an over-long id → 400 invalid_model, not echoed", async () => {
    const res = await h.request("/v1/chat/completions", chat("m".repeat(300)));
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.ok(!text.includes("mmmmmmmmmm"));
    assert.equal(JSON.parse(text).error.code, "invalid_model");
  });

  await t.step("the key's scopes apply to the resolved provider", async () => {
    h.key = testKey({ providers: ["codex"] });
    const res = await h.request("/v1/chat/completions", chat("claude-sonnet-4-5"));
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.code, "provider_not_allowed");
    h.key = testKey();
  });

  await t.step("a backend that speaks the client's API gets the body untouched", async () => {
    const body = chat("copilot/gpt-4.1", { temperature: 0.5 });
    const res = await h.request("/v1/chat/completions", body);
    assert.equal(res.status, 200);
    const sent = h.fakes.copilot.lastRequest("/chat/completions")!.json as Record<string, unknown>;
    assert.deepEqual(sent, { ...body, model: "gpt-4.1" });
  });
});

Deno.test("Chat Completions → Claude: tool names mapped upstream and back, tool round trip", async () => {
  await using h = await startHarness();
  await h.claudeAccount("cl");
  const res = await h.request("/v1/chat/completions", chat("claude-sonnet-4-5"));
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  const call = json.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, "read");
  const sent = h.fakes.anthropic.lastRequest("/v1/messages")!.json as { tools: { name: string }[] };
  assert.equal(sent.tools[0]!.name, "mcp_Read");
  // The result goes back as a tool message; Claude sees tool_use/tool_result pairs.
  const second = await h.request(
    "/v1/chat/completions",
    chat("claude-sonnet-4-5", {
      messages: [
        { role: "user", content: "please use tool" },
        json.choices[0].message,
        { role: "tool", tool_call_id: call.id, content: "file text" },
      ],
    }),
  );
  assert.equal(second.status, 200, await second.clone().text());
  const final = await second.json();
  assert.equal(final.choices[0].message.content, "Hello from fake Claude");
  assert.equal(final.choices[0].finish_reason, "stop");
  const turn =
    (h.fakes.anthropic.lastRequest("/v1/messages")!.json as { messages: { content: unknown[] }[] })
      .messages;
  assert.deepEqual(turn[2]!.content, [{
    type: "tool_result",
    tool_use_id: call.id,
    content: "file text",
  }]);
});

Deno.test("untranslatable input → 400 naming the field, nothing sent upstream", async () => {
  await using h = await startHarness();
  await h.codexAccount("cx");
  await h.claudeAccount("cl");
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["/v1/chat/completions", chat("gpt-5.5", { n: 3 }), /"n"/],
    ["/openai/v1/chat/completions", {
      model: "gpt-5.5",
      messages: [{
        role: "user",
        content: [{ type: "input_audio", input_audio: { data: "", format: "wav" } }],
      }],
    }, /messages\[0\]\.content\[0\]\.type/],
    [
      "/v1/responses",
      { model: "claude-sonnet-4-5", input: "x", previous_response_id: "resp_1" },
      /previous_response_id/,
    ],
    ["/v1/messages", {
      model: "gpt-5.5",
      max_tokens: 10,
      messages: [{ role: "user", content: "x" }],
      tools: [{ type: "web_search_20250305", name: "web_search" }],
    }, /tools\[0\]\.type/],
  ];
  for (const [path, body, field] of cases) {
    const res = await h.request(path, body);
    assert.equal(res.status, 400, path);
    const json = await res.json();
    assert.match(json.error.message, field);
    if (path === "/v1/messages") assert.equal(json.type, "error");
    else assert.equal(json.error.code, "unsupported_field");
  }
  assert.equal(h.fakes.chatgpt.requests.length, 0);
  assert.equal(h.fakes.anthropic.requests.length, 0);
});

Deno.test("backend errors reach the client in its API's shape, Retry-After kept", async (t) => {
  await using h = await startHarness();
  await h.claudeAccount("cl");
  await h.codexAccount("cx");
  await t.step(
    "Claude 400 → OpenAI-shaped for a Chat client, backend message and headers kept",
    async () => {
      h.fakes.anthropic.failNext({
        status: 400,
        headers: { "request-id": "req_fake_400" },
        body: {
          type: "error",
          error: { type: "invalid_request_error", message: "prompt is too long" },
        },
      });
      const res = await h.request("/v1/chat/completions", chat("claude-sonnet-4-5"));
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("request-id"), "req_fake_400");
      const body = await res.json();
      assert.equal(body.error.message, "prompt is too long");
      assert.equal(body.error.type, "invalid_request_error");
    },
  );
  await t.step(
    "Claude 429 (subscription exhausted) → OpenAI-shaped, with Retry-After",
    async () => {
      const reset = Math.floor(h.deps.now() / 1000) + 120;
      h.fakes.anthropic.failNext({
        status: 429,
        headers: {
          "anthropic-ratelimit-unified-status": "rejected",
          "anthropic-ratelimit-unified-reset": String(reset),
          "retry-after": "120",
        },
        body: { type: "error", error: { type: "rate_limit_error", message: "Rate limited" } },
      });
      const res = await h.request("/v1/chat/completions", chat("claude-sonnet-4-5"));
      // With its only account exhausted Kleis answers for the backend (docs/api.md: every account cooling down).
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "120");
      const body = await res.json();
      assert.equal(body.error.code, "accounts_cooling_down");
      assert.equal(typeof body.error.message, "string");
    },
  );
  await t.step("Codex 400 {detail} → Anthropic-shaped for a Messages client", async () => {
    h.fakes.chatgpt.failNext({ status: 400, body: { detail: "Unsupported parameter: foo" } });
    const res = await h.request("/v1/messages", {
      model: "gpt-5.5",
      max_tokens: 10,
      messages: [{ role: "user", content: "x" }],
    });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      type: "error",
      error: { type: "invalid_request_error", message: "Unsupported parameter: foo" },
    });
  });
  await t.step(
    "a Responses failure inside Codex's stream → JSON error in the Chat client's shape",
    async () => {
      h.fakes.chatgpt.failNext({
        status: 200,
        headers: { "content-type": "text/event-stream" },
        body: 'data: {"type":"response.created","response":{"id":"resp_1"}}\n\n' +
          'data: {"type":"response.failed","response":{"error":{"code":"server_error","message":"Model crashed"}}}\n\n',
      });
      const res = await h.request("/v1/chat/completions", chat("gpt-5.5"));
      assert.equal(res.status, 502);
      const body = await res.json();
      assert.equal(body.error.message, "Model crashed");
    },
  );
});

Deno.test("usage recorded for translated requests equals the backend's, all four kinds", async (t) => {
  await using h = await startHarness();
  await h.claudeAccount("cl");
  await h.codexAccount("cx");
  h.fakes.anthropic.setUsage({
    input_tokens: 13,
    cache_read_input_tokens: 100,
    cache_creation_input_tokens: 7,
    output_tokens: 30,
  });
  h.fakes.chatgpt.setUsage({
    input_tokens: 250,
    cache_read_input_tokens: 200,
    output_tokens: 40,
    reasoning_tokens: 9,
  });
  const tokens = () => {
    const u = h.usage.at(-1)!;
    return [u.inputTokens, u.cacheReadTokens, u.cacheWriteTokens, u.outputTokens];
  };
  for (const stream of [false, true]) {
    await t.step(`Chat client on Claude, stream ${stream}`, async () => {
      const res = await h.request(
        "/v1/chat/completions",
        chat("claude-sonnet-4-5", {
          stream,
          ...(stream ? { stream_options: { include_usage: true } } : {}),
        }),
      );
      const usage = stream
        ? ((await sseData(res)).find((e) => (e as { usage?: unknown }).usage) as {
          usage: Record<string, unknown>;
        })
          .usage
        : (await res.json()).usage;
      assert.deepEqual(tokens(), [13, 100, 7, 30]);
      assert.equal(usage["prompt_tokens"], 120);
      assert.deepEqual(usage["prompt_tokens_details"], { cached_tokens: 100 });
    });
    await t.step(`Messages client on Codex, stream ${stream}`, async () => {
      const res = await h.request("/v1/messages", {
        model: "gpt-5.5",
        max_tokens: 50,
        stream,
        messages: [{ role: "user", content: "x" }],
      });
      assert.equal(res.status, 200);
      const usage = stream
        ? ((await sseData(res)).find((e) => (e as { type: string }).type === "message_delta") as {
          usage: Record<string, unknown>;
        }).usage
        : (await res.json()).usage;
      assert.deepEqual(tokens(), [50, 200, 0, 40]);
      assert.deepEqual(usage, {
        input_tokens: 50,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 200,
        output_tokens: 40,
      });
    });
  }
});

Deno.test("translated streams: keepalives, stall limit and upstream cancel as on native routes", async () => {
  await using h = await startHarness({ timing: { keepaliveMs: 40, idleTimeoutMs: 400 } });
  await h.codexAccount("cx");
  h.fakes.chatgpt.stallMidStream(5_000);
  const res = await h.request("/v1/chat/completions", chat("gpt-5.5", { stream: true }));
  const text = await res.text();
  assert.match(text, /^: keepalive$/m);
  const events = text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6));
  assert.deepEqual(JSON.parse(events.at(-1)!), {
    error: {
      message: "The backend sent nothing for 400 ms.",
      type: "api_error",
      code: "stream_timeout",
    },
  });
  await h.fakes.chatgpt.waitForCancel(1000);
  assert.deepEqual([h.usage.at(-1)?.status, h.usage.at(-1)?.failure], [504, "backend"]);
});

Deno.test("a client that leaves a translated stream cancels the backend request within a second", async () => {
  await using h = await startHarness();
  await h.codexAccount("cx");
  h.fakes.chatgpt.stallMidStream(10_000);
  const res = await h.request("/v1/chat/completions", chat("gpt-5.5", { stream: true }));
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  await reader.read();
  const started = performance.now();
  await reader.cancel();
  await h.fakes.chatgpt.waitForCancel(1000);
  assert.ok(performance.now() - started < 1000);
  assert.equal(h.usage.at(-1)?.status, 499);
});

Deno.test("count_tokens: Claude counts, other backends are estimated", async () => {
  await using h = await startHarness();
  await h.claudeAccount("cl");
  await h.codexAccount("cx");
  h.fakes.anthropic.setUsage({ input_tokens: 42 });
  const body = (model: string) => ({
    model,
    messages: [{ role: "user", content: "x".repeat(400) }],
  });
  const claude = await h.request("/v1/messages/count_tokens", body("claude-sonnet-4-5"));
  assert.deepEqual(await claude.json(), { input_tokens: 42 });
  const codex = await h.request("/anthropic/v1/messages/count_tokens", body("gpt-5.5"));
  assert.equal(codex.headers.get("x-kleis-estimate"), "true");
  assert.deepEqual(await codex.json(), { input_tokens: 100 });
  assert.equal(h.fakes.chatgpt.requestsTo(CODEX_PATH).length, 0);
});

Deno.test("a Responses client on a Copilot Claude model goes to Copilot's /v1/messages, translated", async () => {
  await using h = await startHarness();
  await h.copilotAccount("cp");
  const res = await h.request("/v1/responses", {
    model: "copilot/claude-sonnet-4.5",
    input: "please use tool",
    tools: [{ type: "function", name: "read", parameters: schema }],
    stream: true,
  });
  assert.equal(res.status, 200);
  const events = await sseData(res) as {
    type: string;
    response?: { output: { type: string }[] };
  }[];
  const done = events.find((e) => e.type === "response.completed")!;
  assert.deepEqual(done.response!.output.map((i) => i.type), ["message", "function_call"]);
  const sent = h.fakes.copilot.lastRequest("/v1/messages")!;
  assert.equal(sent.headers["x-initiator"], "user");
  assert.deepEqual((sent.json as { tools: unknown[] }).tools, [{
    name: "read",
    input_schema: schema,
  }]);
});

Deno.test("/api.json lists every model again under each /v1 API", async () => {
  await using h = await startHarness();
  await h.codexAccount("cx");
  await h.claudeAccount("cl");
  const doc = JSON.parse(await registryDocument(h.deps, { baseUrl: "https://k.example" }));
  const kleis = Object.keys(doc.kleis.models).sort();
  assert.ok(kleis.includes("gpt-5.5") && kleis.includes("anthropic/claude-sonnet-4-5"));
  for (
    const [id, npm] of [
      ["kleis-chat", "@ai-sdk/openai-compatible"],
      ["kleis-responses", "@ai-sdk/openai"],
      ["kleis-messages", "@ai-sdk/anthropic"],
    ]
  ) {
    const provider = doc[id!];
    assert.deepEqual(Object.keys(provider.models).sort(), kleis, id);
    assert.deepEqual(provider.models["gpt-5.5"].provider, { npm, api: "https://k.example/v1" });
    assert.ok(provider.models["gpt-5.5"].limit.context > 0);
  }
});

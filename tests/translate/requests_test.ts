/**
 * Request translation, one table per direction: the client's body in one
 * API read into neutral form, and neutral form written in each backend's
 * API (text, image, tools, parallel tool calls, JSON schema, reasoning,
 * untranslatable fields).
 */
import assert from "node:assert/strict";
import { KleisError } from "../../src/errors.ts";
import { readChatRequest } from "../../src/translate/chat/request_read.ts";
import { writeChatRequest } from "../../src/translate/chat/request_write.ts";
import { readResponsesRequest } from "../../src/translate/responses/request_read.ts";
import { writeResponsesRequest } from "../../src/translate/responses/request_write.ts";
import { readMessagesRequest } from "../../src/translate/messages/request_read.ts";
import {
  JSON_ANSWER_TOOL,
  writeMessagesRequest,
} from "../../src/translate/messages/request_write.ts";
import type { NeutralRequest } from "../../src/translate/neutral.ts";
import { checkChatBody, checkMessagesBody, checkResponsesBody } from "../fakes/strict_shapes.ts";

const schema = { type: "object", properties: { path: { type: "string" } }, required: ["path"] };
const PNG = "data:image/png;base64,iVBORw0KGgo=";

/** A conversation with every kind of turn: system, image, two parallel calls and their results. */
const CHAT_FULL = {
  model: "gpt-5.5",
  messages: [
    { role: "system", content: "You are terse." },
    { role: "developer", content: [{ type: "text", text: "Use tools." }] },
    {
      role: "user",
      content: [
        { type: "text", text: "What is in a.txt and b.txt? And this image?" },
        { type: "image_url", image_url: { url: PNG, detail: "high" } },
      ],
    },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: "call_a",
          type: "function",
          function: { name: "read", arguments: '{"path":"a.txt"}' },
        },
        {
          id: "call_b",
          type: "function",
          function: { name: "read", arguments: '{"path":"b.txt"}' },
        },
      ],
    },
    { role: "tool", tool_call_id: "call_a", content: "alpha" },
    { role: "tool", tool_call_id: "call_b", content: [{ type: "text", text: "beta" }] },
    { role: "user", content: "Summarise." },
  ],
  tools: [{
    type: "function",
    function: { name: "read", description: "Read a file", parameters: schema },
  }],
  tool_choice: "auto",
  parallel_tool_calls: true,
  reasoning_effort: "high",
  max_completion_tokens: 500,
  stop: ["END"],
  temperature: 0.2,
  stream: true,
  stream_options: { include_usage: true },
  user: "session-7",
};

Deno.test("Chat Completions request → neutral", async (t) => {
  await t.step("text, system and developer, image, parallel tool calls and results", () => {
    const n = readChatRequest(CHAT_FULL);
    assert.deepEqual(n.system, ["You are terse.", "Use tools."]);
    assert.deepEqual(n.messages[0], {
      role: "user",
      content: [
        { type: "text", text: "What is in a.txt and b.txt? And this image?" },
        { type: "image", url: PNG, detail: "high" },
      ],
    });
    assert.deepEqual(n.messages[1], {
      role: "assistant",
      content: [],
      toolCalls: [
        { id: "call_a", name: "read", arguments: '{"path":"a.txt"}' },
        { id: "call_b", name: "read", arguments: '{"path":"b.txt"}' },
      ],
    });
    assert.deepEqual(n.messages[3], {
      role: "tool",
      callId: "call_b",
      content: [{ type: "text", text: "beta" }],
    });
    assert.deepEqual(n.tools, [{ name: "read", description: "Read a file", parameters: schema }]);
    assert.equal(n.toolChoice, "auto");
    assert.equal(n.parallelToolCalls, true);
    assert.equal(n.reasoningEffort, "high");
    assert.equal(n.maxTokens, 500);
    assert.deepEqual(n.stop, ["END"]);
    assert.equal(n.stream, true);
    assert.equal(n.includeUsage, true);
    assert.equal(n.session, "session-7");
  });

  await t.step("JSON schema and json_object answer formats", () => {
    const n = readChatRequest({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      response_format: {
        type: "json_schema",
        json_schema: { name: "answer", schema, strict: true },
      },
    });
    assert.deepEqual(n.responseFormat, {
      type: "json_schema",
      name: "answer",
      schema,
      strict: true,
    });
    const o = readChatRequest({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      response_format: { type: "json_object" },
    });
    assert.deepEqual(o.responseFormat, { type: "json_object" });
  });

  const refused: [string, Record<string, unknown>, string][] = [
    ["n > 1", { n: 2 }, '"n"'],
    ["audio output", { modalities: ["text", "audio"] }, '"modalities"'],
    ["logprobs", { logprobs: true }, '"logprobs"'],
    ["legacy functions", { functions: [{ name: "x" }] }, '"functions"'],
    [
      "an audio part",
      {
        messages: [{
          role: "user",
          content: [{ type: "input_audio", input_audio: { data: "", format: "wav" } }],
        }],
      },
      '"messages[0].content[0].type"',
    ],
    ["a custom tool", { tools: [{ type: "custom", custom: { name: "x" } }] }, '"tools[0].type"'],
  ];
  for (const [name, extra, field] of refused) {
    await t.step(`${name} → 400 naming ${field}`, () => {
      assert.throws(
        () =>
          readChatRequest({ model: "m", messages: [{ role: "user", content: "hi" }], ...extra }),
        (e: unknown) => e instanceof KleisError && e.status === 400 && e.message.startsWith(field),
      );
    });
  }
});

function full(): NeutralRequest {
  return readChatRequest(CHAT_FULL);
}

Deno.test("neutral → each backend's request, accepted by the strict fakes' shape rules", async (t) => {
  await t.step("→ Responses (Codex): instructions, items, flat tools, reasoning, no stop", () => {
    const body = writeResponsesRequest(full(), "gpt-5.5");
    assert.equal(checkResponsesBody(body), undefined);
    assert.equal(body["instructions"], "You are terse.\n\nUse tools.");
    assert.deepEqual((body["input"] as unknown[]).slice(0, 4), [
      {
        type: "message",
        role: "user",
        content: [
          { type: "input_text", text: "What is in a.txt and b.txt? And this image?" },
          { type: "input_image", image_url: PNG, detail: "high" },
        ],
      },
      { type: "function_call", call_id: "call_a", name: "read", arguments: '{"path":"a.txt"}' },
      { type: "function_call", call_id: "call_b", name: "read", arguments: '{"path":"b.txt"}' },
      { type: "function_call_output", call_id: "call_a", output: "alpha" },
    ]);
    assert.deepEqual(body["tools"], [
      {
        type: "function",
        name: "read",
        description: "Read a file",
        parameters: schema,
        strict: false,
      },
    ]);
    assert.deepEqual(body["reasoning"], { effort: "high", summary: "auto" });
    assert.equal(body["max_output_tokens"], 500);
    assert.equal(body["prompt_cache_key"], "session-7");
    assert.equal("stop" in body, false);
    const json = writeResponsesRequest(
      readChatRequest({
        model: "m",
        messages: [{ role: "user", content: "hi" }],
        response_format: {
          type: "json_schema",
          json_schema: { name: "answer", schema, strict: true },
        },
      }),
      "gpt-5.5",
    );
    assert.deepEqual(json["text"], {
      format: { type: "json_schema", name: "answer", schema, strict: true },
    });
  });

  await t.step(
    "→ Messages (Claude): tool results in one user turn, thinking budget, image source",
    () => {
      const body = writeMessagesRequest(full(), "claude-sonnet-4-5", 64000);
      assert.equal(checkMessagesBody(body), undefined);
      assert.equal(body["system"], "You are terse.\n\nUse tools.");
      const messages = body["messages"] as { role: string; content: Record<string, unknown>[] }[];
      assert.deepEqual(messages.map((m) => m.role), ["user", "assistant", "user"]);
      assert.deepEqual(messages[0]!.content[1], {
        type: "image",
        source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" },
      });
      assert.deepEqual(messages[1]!.content, [
        { type: "tool_use", id: "call_a", name: "read", input: { path: "a.txt" } },
        { type: "tool_use", id: "call_b", name: "read", input: { path: "b.txt" } },
      ]);
      assert.deepEqual(messages[2]!.content, [
        { type: "tool_result", tool_use_id: "call_a", content: "alpha" },
        { type: "tool_result", tool_use_id: "call_b", content: "beta" },
        { type: "text", text: "Summarise." },
      ]);
      assert.deepEqual(body["thinking"], { type: "enabled", budget_tokens: 16384 });
      assert.equal(body["max_tokens"], 500 + 16384);
      assert.equal("temperature" in body, false, "temperature is dropped with thinking");
      assert.deepEqual(body["stop_sequences"], ["END"]);
      assert.deepEqual(body["tool_choice"], { type: "auto" });
      assert.deepEqual(body["metadata"], { user_id: "session-7" });
    },
  );

  await t.step(
    "→ Messages: a JSON schema becomes one forced tool; with tools it is refused",
    () => {
      const req = readChatRequest({
        model: "m",
        messages: [{ role: "user", content: "hi" }],
        response_format: { type: "json_schema", json_schema: { name: "answer", schema } },
        reasoning_effort: "low",
      });
      const body = writeMessagesRequest(req, "claude-sonnet-4-5");
      assert.equal(checkMessagesBody(body), undefined);
      assert.deepEqual(body["tool_choice"], { type: "tool", name: JSON_ANSWER_TOOL });
      assert.equal((body["tools"] as { input_schema: unknown }[])[0]!.input_schema, schema);
      assert.equal(body["thinking"], undefined, "no thinking with a forced tool");
      assert.equal(body["max_tokens"], 8192, "the default without a known limit");
      assert.throws(
        () => writeMessagesRequest({ ...req, tools: [{ name: "x", parameters: {} }] }, "c"),
        (e: unknown) => e instanceof KleisError && e.message.startsWith('"response_format"'),
      );
    },
  );

  await t.step("→ Chat (Copilot): system first, tool_calls and tool messages in order", () => {
    const body = writeChatRequest(full(), "gpt-4.1");
    assert.equal(checkChatBody(body), undefined);
    const messages = body["messages"] as Record<string, unknown>[];
    assert.deepEqual(messages[0], { role: "system", content: "You are terse.\n\nUse tools." });
    assert.equal(messages[2]!["content"], null);
    assert.deepEqual(messages.slice(3, 5), [
      { role: "tool", tool_call_id: "call_a", content: "alpha" },
      { role: "tool", tool_call_id: "call_b", content: "beta" },
    ]);
    assert.equal(body["reasoning_effort"], "high");
    assert.deepEqual(body["stream_options"], { include_usage: true });
  });
});

Deno.test("Responses request → neutral", async (t) => {
  await t.step(
    "instructions, string input, function calls and outputs, reasoning items dropped",
    () => {
      const n = readResponsesRequest({
        model: "claude-sonnet-4-5",
        instructions: "Be brief.",
        input: [
          { type: "message", role: "developer", content: "Prefer tools." },
          {
            role: "user",
            content: [{ type: "input_text", text: "read a" }, {
              type: "input_image",
              image_url: PNG,
            }],
          },
          { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "opaque" },
          { type: "function_call", call_id: "call_1", name: "read", arguments: '{"path":"a"}' },
          { type: "function_call", call_id: "call_2", name: "read", arguments: '{"path":"b"}' },
          { type: "function_call_output", call_id: "call_1", output: "A" },
          { type: "function_call_output", call_id: "call_2", output: "B" },
        ],
        tools: [{ type: "function", name: "read", parameters: schema, strict: true }],
        tool_choice: { type: "function", name: "read" },
        text: { format: { type: "json_schema", name: "out", schema } },
        reasoning: { effort: "medium", summary: "auto" },
        max_output_tokens: 300,
        prompt_cache_key: "conv-1",
        stream: true,
      });
      assert.deepEqual(n.system, ["Be brief.", "Prefer tools."]);
      assert.deepEqual(n.messages.map((m) => m.role), ["user", "assistant", "tool", "tool"]);
      assert.deepEqual(n.messages[1], {
        role: "assistant",
        content: [],
        toolCalls: [
          { id: "call_1", name: "read", arguments: '{"path":"a"}' },
          { id: "call_2", name: "read", arguments: '{"path":"b"}' },
        ],
      });
      assert.deepEqual(n.toolChoice, { name: "read" });
      assert.deepEqual(n.responseFormat, { type: "json_schema", name: "out", schema });
      assert.equal(n.reasoningEffort, "medium");
      assert.equal(n.maxTokens, 300);
      assert.equal(n.session, "conv-1");
    },
  );
  const refused: [string, Record<string, unknown>, string][] = [
    ["previous_response_id", { previous_response_id: "resp_1" }, '"previous_response_id"'],
    ["a built-in tool", { tools: [{ type: "web_search" }] }, '"tools[0].type"'],
    [
      "a file part",
      { input: [{ role: "user", content: [{ type: "input_file", file_id: "f" }] }] },
      '"input[0].content[0].type"',
    ],
  ];
  for (const [name, extra, field] of refused) {
    await t.step(`${name} → 400 naming ${field}`, () => {
      assert.throws(
        () => readResponsesRequest({ model: "m", input: "hi", ...extra }),
        (e: unknown) => e instanceof KleisError && e.status === 400 && e.message.startsWith(field),
      );
    });
  }
});

Deno.test("Messages request → neutral (as Claude Code sends it)", async (t) => {
  await t.step("system blocks, tool_use/tool_result, thinking dropped, image, budgets", () => {
    const n = readMessagesRequest({
      model: "gpt-5.5",
      max_tokens: 32000,
      system: [
        { type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } },
        { type: "text", text: "Env: linux" },
      ],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "look" },
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "AAA=" } },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "sig" },
            { type: "text", text: "Reading." },
            { type: "tool_use", id: "toolu_1", name: "Read", input: { path: "a" } },
            { type: "tool_use", id: "toolu_2", name: "Read", input: { path: "b" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "A" },
            {
              type: "tool_result",
              tool_use_id: "toolu_2",
              content: [{ type: "text", text: "B" }],
              is_error: true,
            },
            { type: "text", text: "go on" },
          ],
        },
      ],
      tools: [{ name: "Read", description: "read", input_schema: schema }],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      thinking: { type: "enabled", budget_tokens: 10000 },
      metadata: { user_id: "user_abc_session_1" },
      stream: true,
    });
    assert.deepEqual(n.system, ["You are Claude Code.", "Env: linux"]);
    assert.deepEqual(n.messages.map((m) => m.role), ["user", "assistant", "tool", "tool", "user"]);
    assert.deepEqual(n.messages[0], {
      role: "user",
      content: [{ type: "text", text: "look" }, {
        type: "image",
        url: "data:image/jpeg;base64,AAA=",
      }],
    });
    assert.deepEqual(n.messages[1], {
      role: "assistant",
      content: [{ type: "text", text: "Reading." }],
      toolCalls: [
        { id: "toolu_1", name: "Read", arguments: '{"path":"a"}' },
        { id: "toolu_2", name: "Read", arguments: '{"path":"b"}' },
      ],
    });
    assert.deepEqual(n.messages[3], {
      role: "tool",
      callId: "toolu_2",
      content: [{ type: "text", text: "B" }],
      isError: true,
    });
    assert.equal(n.toolChoice, "required");
    assert.equal(n.parallelToolCalls, false);
    assert.equal(n.reasoningEffort, "medium");
    assert.equal(n.session, "user_abc_session_1");
    const codex = writeResponsesRequest(n, "gpt-5.5");
    assert.equal(checkResponsesBody(codex), undefined);
    assert.equal(codex["parallel_tool_calls"], false);
    assert.equal(codex["tool_choice"], "required");
  });
  await t.step("a system-role turn (Claude Code's environment) becomes system text", () => {
    const n = readMessagesRequest({
      model: "gpt-5.5",
      max_tokens: 10,
      system: "Identity.",
      messages: [
        { role: "user", content: "hi" },
        { role: "system", content: [{ type: "text", text: "# Environment" }] },
        { role: "assistant", content: "hello" },
      ],
    });
    assert.deepEqual(n.system, ["Identity.", "# Environment"]);
    assert.deepEqual(n.messages.map((m) => m.role), ["user", "assistant"]);
  });
  const refused: [string, Record<string, unknown>, string][] = [
    [
      "a server tool",
      { tools: [{ type: "web_search_20250305", name: "web_search" }] },
      '"tools[0].type"',
    ],
    [
      "a document",
      {
        messages: [{
          role: "user",
          content: [{ type: "document", source: { type: "text", data: "x" } }],
        }],
      },
      '"messages[0].content[0].type"',
    ],
  ];
  for (const [name, extra, field] of refused) {
    await t.step(`${name} → 400 naming ${field}`, () => {
      assert.throws(
        () =>
          readMessagesRequest({
            model: "m",
            max_tokens: 1,
            messages: [{ role: "user", content: "hi" }],
            ...extra,
          }),
        (e: unknown) => e instanceof KleisError && e.status === 400 && e.message.startsWith(field),
      );
    });
  }
});

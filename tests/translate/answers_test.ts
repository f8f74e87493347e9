/**
 * Answer translation, one table per direction: a backend's answer (JSON and
 * stream, shapes as the real APIs send them) read into neutral form, and
 * neutral answers and events written for each client API. Cases: text,
 * tools, parallel tool calls, reasoning, refusal / content filter, length
 * cut-off, error mid-stream, JSON schema answers.
 */
import assert from "node:assert/strict";
import { ChatStreamDecoder, readChatAnswer } from "../../src/translate/chat/answer_read.ts";
import { ChatStreamEncoder, writeChatAnswer } from "../../src/translate/chat/answer_write.ts";
import {
  readResponsesAnswer,
  ResponsesStreamDecoder,
} from "../../src/translate/responses/answer_read.ts";
import {
  ResponsesStreamEncoder,
  writeResponsesAnswer,
} from "../../src/translate/responses/answer_write.ts";
import {
  MessagesStreamDecoder,
  readMessagesAnswer,
} from "../../src/translate/messages/answer_read.ts";
import {
  MessagesStreamEncoder,
  writeMessagesAnswer,
} from "../../src/translate/messages/answer_write.ts";
import type { NeutralAnswer, NeutralEvent } from "../../src/translate/neutral.ts";
import { JsonToolFilter, StopFilter } from "../../src/translate/transforms.ts";
import { decodeAll, encodeAll, usage } from "./helpers.ts";

// ------------------------------------------------------------------ Responses (Codex) in

const resp = (extra: Record<string, unknown>) => ({
  id: "resp_1",
  object: "response",
  created_at: 1700000000,
  model: "gpt-5.5",
  status: "completed",
  incomplete_details: null,
  ...extra,
});
const codexUsage = {
  input_tokens: 120,
  input_tokens_details: { cached_tokens: 100 },
  output_tokens: 30,
  output_tokens_details: { reasoning_tokens: 12 },
  total_tokens: 150,
};

Deno.test("Responses answer (JSON) → neutral", () => {
  const cases: [string, Record<string, unknown>, Partial<NeutralAnswer>][] = [
    [
      "text",
      resp({
        output: [{
          type: "message",
          role: "assistant",
          content: [{ type: "output_text", text: "Hi" }],
        }],
        usage: codexUsage,
      }),
      {
        text: "Hi",
        finish: "stop",
        usage: { input: 120, cacheRead: 100, cacheWrite: 0, output: 30, reasoning: 12 },
      },
    ],
    [
      "parallel tool calls",
      resp({
        output: [
          { type: "function_call", call_id: "c1", name: "read", arguments: '{"p":1}' },
          { type: "function_call", call_id: "c2", name: "read", arguments: '{"p":2}' },
        ],
      }),
      {
        toolCalls: [{ id: "c1", name: "read", arguments: '{"p":1}' }, {
          id: "c2",
          name: "read",
          arguments: '{"p":2}',
        }],
        finish: "tool_calls",
      },
    ],
    [
      "reasoning summary",
      resp({
        output: [
          {
            type: "reasoning",
            id: "rs",
            summary: [{ type: "summary_text", text: "Think." }],
            encrypted_content: "x",
          },
          { type: "message", content: [{ type: "output_text", text: "Done" }] },
        ],
      }),
      { reasoning: "Think.", text: "Done" },
    ],
    [
      "refusal",
      resp({ output: [{ type: "message", content: [{ type: "refusal", refusal: "No." }] }] }),
      { refusal: "No.", text: "" },
    ],
    [
      "length cut-off",
      resp({
        status: "incomplete",
        incomplete_details: { reason: "max_output_tokens" },
        output: [],
      }),
      { finish: "length" },
    ],
    [
      "content filter",
      resp({ status: "incomplete", incomplete_details: { reason: "content_filter" }, output: [] }),
      { finish: "content_filter" },
    ],
  ];
  for (const [name, body, want] of cases) {
    const got = readResponsesAnswer(body);
    for (const [k, v] of Object.entries(want)) {
      assert.deepEqual(got[k as keyof NeutralAnswer], v, `${name}: ${k}`);
    }
  }
});

/** A Codex stream with reasoning, text, two tool calls (second with arguments only in .done). */
const CODEX_STREAM = [
  {
    type: "response.created",
    sequence_number: 0,
    response: resp({ status: "in_progress", output: [] }),
  },
  {
    type: "response.in_progress",
    sequence_number: 1,
    response: resp({ status: "in_progress", output: [] }),
  },
  {
    type: "response.output_item.added",
    output_index: 0,
    item: { id: "rs_1", type: "reasoning", summary: [] },
  },
  {
    type: "response.reasoning_summary_text.delta",
    item_id: "rs_1",
    output_index: 0,
    summary_index: 0,
    delta: "Plan.",
  },
  { type: "response.output_item.done", output_index: 0, item: { id: "rs_1", type: "reasoning" } },
  {
    type: "response.output_item.added",
    output_index: 1,
    item: { id: "msg_1", type: "message", role: "assistant", content: [] },
  },
  {
    type: "response.output_text.delta",
    item_id: "msg_1",
    output_index: 1,
    content_index: 0,
    delta: "Hel",
  },
  {
    type: "response.output_text.delta",
    item_id: "msg_1",
    output_index: 1,
    content_index: 0,
    delta: "lo",
  },
  {
    type: "response.output_item.added",
    output_index: 2,
    item: { id: "fc_1", type: "function_call", call_id: "call_1", name: "read", arguments: "" },
  },
  {
    type: "response.function_call_arguments.delta",
    item_id: "fc_1",
    output_index: 2,
    delta: '{"p":',
  },
  {
    type: "response.output_item.added",
    output_index: 3,
    item: { id: "fc_2", type: "function_call", call_id: "call_2", name: "list", arguments: "" },
  },
  { type: "response.function_call_arguments.delta", item_id: "fc_1", output_index: 2, delta: "1}" },
  {
    type: "response.function_call_arguments.done",
    item_id: "fc_2",
    output_index: 3,
    arguments: "{}",
  },
  { type: "response.completed", response: resp({ output: [], usage: codexUsage }) },
];

Deno.test("Responses stream → neutral events", async (t) => {
  await t.step("reasoning, text, interleaved parallel tool calls, usage, finish", () => {
    assert.deepEqual(decodeAll(new ResponsesStreamDecoder(), CODEX_STREAM), [
      { type: "start", id: "resp_1", model: "gpt-5.5", created: 1700000000 },
      { type: "reasoning", delta: "Plan." },
      { type: "text", delta: "Hel" },
      { type: "text", delta: "lo" },
      { type: "tool_start", index: 0, id: "call_1", name: "read" },
      { type: "tool_args", index: 0, delta: '{"p":' },
      { type: "tool_start", index: 1, id: "call_2", name: "list" },
      { type: "tool_args", index: 0, delta: "1}" },
      { type: "tool_args", index: 1, delta: "{}" },
      {
        type: "usage",
        usage: { input: 120, cacheRead: 100, cacheWrite: 0, output: 30, reasoning: 12 },
      },
      { type: "finish", finish: "tool_calls" },
    ]);
  });
  await t.step("incomplete (length) and failed mid-stream", () => {
    const incomplete = decodeAll(new ResponsesStreamDecoder(), [
      { type: "response.created", response: resp({ status: "in_progress" }) },
      { type: "response.output_text.delta", delta: "cut" },
      {
        type: "response.incomplete",
        response: resp({
          status: "incomplete",
          incomplete_details: { reason: "max_output_tokens" },
        }),
      },
    ]);
    assert.deepEqual(incomplete.at(-1), { type: "finish", finish: "length" });
    const failed = decodeAll(new ResponsesStreamDecoder(), [
      { type: "response.created", response: resp({ status: "in_progress" }) },
      { type: "response.output_text.delta", delta: "par" },
      {
        type: "response.failed",
        response: resp({
          status: "failed",
          error: { code: "server_error", message: "Upstream broke." },
        }),
      },
      { type: "response.output_text.delta", delta: "ignored" },
    ]);
    assert.deepEqual(failed.at(-1), {
      type: "error",
      status: 502,
      errorType: "api_error",
      message: "Upstream broke.",
    });
    assert.equal(failed.length, 3);
  });
});

// ------------------------------------------------------------------ Messages (Claude) in

const CLAUDE_STREAM = [
  {
    type: "message_start",
    message: {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [],
      usage: {
        input_tokens: 13,
        cache_creation_input_tokens: 7,
        cache_read_input_tokens: 100,
        output_tokens: 1,
      },
    },
  },
  {
    type: "content_block_start",
    index: 0,
    content_block: { type: "thinking", thinking: "", signature: "" },
  },
  { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Hmm." } },
  { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "sig" } },
  { type: "content_block_stop", index: 0 },
  { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
  { type: "ping" },
  { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Sure" } },
  { type: "content_block_stop", index: 1 },
  {
    type: "content_block_start",
    index: 2,
    content_block: { type: "tool_use", id: "toolu_1", name: "read", input: {} },
  },
  {
    type: "content_block_delta",
    index: 2,
    delta: { type: "input_json_delta", partial_json: '{"p":' },
  },
  {
    type: "content_block_delta",
    index: 2,
    delta: { type: "input_json_delta", partial_json: "1}" },
  },
  { type: "content_block_stop", index: 2 },
  {
    type: "content_block_start",
    index: 3,
    content_block: { type: "tool_use", id: "toolu_2", name: "list", input: {} },
  },
  { type: "content_block_stop", index: 3 },
  {
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { output_tokens: 30 },
  },
  { type: "message_stop" },
];

Deno.test("Messages answer → neutral (JSON and stream)", async (t) => {
  await t.step("JSON: text, tool_use, thinking, stop reasons, cache usage", () => {
    const cases: [string, Record<string, unknown>, Partial<NeutralAnswer>][] = [
      ["tool use", {
        id: "msg_1",
        content: [
          { type: "thinking", thinking: "T", signature: "s" },
          { type: "text", text: "Hi" },
          { type: "tool_use", id: "toolu_1", name: "read", input: { p: 1 } },
        ],
        stop_reason: "tool_use",
        usage: {
          input_tokens: 13,
          cache_creation_input_tokens: 7,
          cache_read_input_tokens: 100,
          output_tokens: 30,
        },
      }, {
        text: "Hi",
        reasoning: "T",
        toolCalls: [{ id: "toolu_1", name: "read", arguments: '{"p":1}' }],
        finish: "tool_calls",
        usage: { input: 120, cacheRead: 100, cacheWrite: 7, output: 30, reasoning: 0 },
      }],
      ["max tokens", { content: [{ type: "text", text: "cut" }], stop_reason: "max_tokens" }, {
        finish: "length",
      }],
      ["refusal", { content: [], stop_reason: "refusal" }, { finish: "content_filter" }],
      ["stop sequence", { content: [{ type: "text", text: "a" }], stop_reason: "stop_sequence" }, {
        finish: "stop",
      }],
    ];
    for (const [name, body, want] of cases) {
      const got = readMessagesAnswer(body);
      for (const [k, v] of Object.entries(want)) {
        assert.deepEqual(got[k as keyof NeutralAnswer], v, `${name}: ${k}`);
      }
    }
  });
  await t.step("stream: thinking, text, parallel tool_use blocks, usage with cache, finish", () => {
    assert.deepEqual(
      decodeAll(new MessagesStreamDecoder(), CLAUDE_STREAM).filter((e) => e.type !== "start"),
      [
        { type: "reasoning", delta: "Hmm." },
        { type: "text", delta: "Sure" },
        { type: "tool_start", index: 0, id: "toolu_1", name: "read" },
        { type: "tool_args", index: 0, delta: '{"p":' },
        { type: "tool_args", index: 0, delta: "1}" },
        { type: "tool_start", index: 1, id: "toolu_2", name: "list" },
        {
          type: "usage",
          usage: { input: 120, cacheRead: 100, cacheWrite: 7, output: 30, reasoning: 0 },
        },
        { type: "finish", finish: "tool_calls" },
      ],
    );
  });
  await t.step("stream: an overloaded error mid-stream", () => {
    const events = decodeAll(new MessagesStreamDecoder(), [
      CLAUDE_STREAM[0]!,
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Par" } },
      { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
    ]);
    assert.deepEqual(events.at(-1), {
      type: "error",
      status: 502,
      errorType: "overloaded_error",
      message: "Overloaded",
    });
  });
});

// ------------------------------------------------------------------ Chat (Copilot) in

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: "chatcmpl-1",
  object: "chat.completion.chunk",
  created: 1700000000,
  model: "gpt-4.1",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

Deno.test("Chat answer → neutral (JSON and stream)", async (t) => {
  await t.step("JSON: tool calls, refusal, content filter, usage details", () => {
    const got = readChatAnswer({
      id: "chatcmpl-1",
      created: 1,
      model: "gpt-4.1",
      choices: [{
        index: 0,
        message: {
          role: "assistant",
          content: null,
          refusal: null,
          tool_calls: [
            { id: "c1", type: "function", function: { name: "a", arguments: "{}" } },
            { id: "c2", type: "function", function: { name: "b", arguments: "{}" } },
          ],
        },
        finish_reason: "tool_calls",
      }],
      usage: {
        prompt_tokens: 120,
        completion_tokens: 30,
        prompt_tokens_details: { cached_tokens: 100 },
        completion_tokens_details: { reasoning_tokens: 12 },
      },
    });
    assert.equal(got.toolCalls.length, 2);
    assert.equal(got.finish, "tool_calls");
    assert.deepEqual(got.usage, {
      input: 120,
      cacheRead: 100,
      cacheWrite: 0,
      output: 30,
      reasoning: 12,
    });
    const filtered = readChatAnswer({
      choices: [{ message: { content: "", refusal: "no" }, finish_reason: "content_filter" }],
    });
    assert.equal(filtered.finish, "content_filter");
    assert.equal(filtered.refusal, "no");
  });
  await t.step(
    "stream: reasoning_text, text, parallel tool deltas by index, usage after finish, [DONE]",
    () => {
      const events = decodeAll(new ChatStreamDecoder(), [
        chunk({ role: "assistant", content: "" }),
        chunk({ reasoning_text: "Plan." }),
        chunk({ content: "Hi" }),
        chunk({
          tool_calls: [{
            index: 0,
            id: "c1",
            type: "function",
            function: { name: "a", arguments: "" },
          }],
        }),
        chunk({
          tool_calls: [{
            index: 1,
            id: "c2",
            type: "function",
            function: { name: "b", arguments: "{}" },
          }],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: "{}" } }] }),
        chunk({}, "tool_calls"),
        { ...chunk({}), choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } },
        "[DONE]",
      ]);
      assert.deepEqual(events.slice(1), [
        { type: "reasoning", delta: "Plan." },
        { type: "text", delta: "Hi" },
        { type: "tool_start", index: 0, id: "c1", name: "a" },
        { type: "tool_start", index: 1, id: "c2", name: "b" },
        { type: "tool_args", index: 1, delta: "{}" },
        { type: "tool_args", index: 0, delta: "{}" },
        {
          type: "usage",
          usage: { input: 5, cacheRead: 0, cacheWrite: 0, output: 2, reasoning: 0 },
        },
        { type: "finish", finish: "tool_calls" },
      ]);
    },
  );
  await t.step("stream: an error object mid-stream; a length finish without [DONE]", () => {
    const error = decodeAll(new ChatStreamDecoder(), [chunk({ content: "a" }), {
      error: { message: "boom", type: "server_error" },
    }]);
    assert.deepEqual(error.at(-1), {
      type: "error",
      status: 502,
      errorType: "server_error",
      message: "boom",
    });
    const cut = decodeAll(new ChatStreamDecoder(), [chunk({ content: "a" }), chunk({}, "length")]);
    assert.deepEqual(cut.at(-1), { type: "finish", finish: "length" });
  });
});

// ------------------------------------------------------------------ neutral → clients

const answer = (extra: Partial<NeutralAnswer>): NeutralAnswer => ({
  id: "x1",
  model: "m",
  created: 1700000000,
  text: "",
  reasoning: "",
  refusal: "",
  toolCalls: [],
  finish: "stop",
  usage,
  ...extra,
});

Deno.test("neutral answer → client JSON", async (t) => {
  const two = [{ id: "c1", name: "a", arguments: '{"p":1}' }, {
    id: "c2",
    name: "b",
    arguments: "{}",
  }];
  await t.step("→ chat.completion", () => {
    const out = writeChatAnswer(
      answer({ text: "Hi", reasoning: "R", toolCalls: two, finish: "tool_calls" }),
      "gpt-5.5",
    );
    const choice = (out["choices"] as Record<string, unknown>[])[0]!;
    assert.equal(choice["finish_reason"], "tool_calls");
    const message = choice["message"] as Record<string, unknown>;
    assert.equal(message["content"], "Hi");
    assert.equal(message["reasoning_content"], "R");
    assert.equal((message["tool_calls"] as unknown[]).length, 2);
    assert.deepEqual(out["usage"], {
      prompt_tokens: 120,
      completion_tokens: 30,
      total_tokens: 150,
      prompt_tokens_details: { cached_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 12 },
    });
    const refused = writeChatAnswer(answer({ refusal: "No", finish: "content_filter" }), "m");
    const m = ((refused["choices"] as Record<string, unknown>[])[0]!["message"]) as Record<
      string,
      unknown
    >;
    assert.equal(m["content"], null);
    assert.equal(m["refusal"], "No");
  });
  await t.step("→ Messages message", () => {
    const out = writeMessagesAnswer(
      answer({ text: "Hi", toolCalls: two, finish: "tool_calls" }),
      "gpt-5.5",
    );
    assert.equal(out["stop_reason"], "tool_use");
    assert.deepEqual(out["content"], [
      { type: "text", text: "Hi" },
      { type: "tool_use", id: "c1", name: "a", input: { p: 1 } },
      { type: "tool_use", id: "c2", name: "b", input: {} },
    ]);
    assert.deepEqual(out["usage"], {
      input_tokens: 13,
      cache_creation_input_tokens: 7,
      cache_read_input_tokens: 100,
      output_tokens: 30,
    });
    assert.equal(
      writeMessagesAnswer(answer({ finish: "length" }), "m")["stop_reason"],
      "max_tokens",
    );
    assert.equal(
      writeMessagesAnswer(answer({ finish: "content_filter" }), "m")["stop_reason"],
      "refusal",
    );
  });
  await t.step("→ Responses response", () => {
    const out = writeResponsesAnswer(
      answer({ text: "Hi", reasoning: "R", toolCalls: two, finish: "tool_calls" }),
      "claude",
    );
    assert.equal(out["status"], "completed");
    assert.deepEqual((out["output"] as { type: string }[]).map((i) => i.type), [
      "reasoning",
      "message",
      "function_call",
      "function_call",
    ]);
    const cut = writeResponsesAnswer(answer({ finish: "length" }), "m");
    assert.equal(cut["status"], "incomplete");
    assert.deepEqual(cut["incomplete_details"], { reason: "max_output_tokens" });
  });
});

const EVENTS: NeutralEvent[] = [
  { type: "start", id: "resp_1", model: "gpt-5.5", created: 1700000000 },
  { type: "reasoning", delta: "Plan." },
  { type: "text", delta: "Hel" },
  { type: "text", delta: "lo" },
  { type: "tool_start", index: 0, id: "call_1", name: "read" },
  { type: "tool_args", index: 0, delta: '{"p":' },
  { type: "tool_start", index: 1, id: "call_2", name: "list" },
  { type: "tool_args", index: 0, delta: "1}" },
  { type: "tool_args", index: 1, delta: "{}" },
  { type: "usage", usage },
  { type: "finish", finish: "tool_calls" },
];

Deno.test("neutral events → client streams", async (t) => {
  await t.step(
    "→ chat chunks: reasoning_content, tool deltas by index, finish, usage chunk, [DONE]",
    () => {
      const out = encodeAll(new ChatStreamEncoder("gpt-5.5", true), EVENTS);
      const deltas = out.slice(0, -3).map((
        e,
      ) => ((e.data as { choices: { delta: unknown }[] }).choices[0]!.delta));
      assert.deepEqual(deltas, [
        { role: "assistant", content: "" },
        { reasoning_content: "Plan." },
        { content: "Hel" },
        { content: "lo" },
        {
          tool_calls: [{
            index: 0,
            id: "call_1",
            type: "function",
            function: { name: "read", arguments: "" },
          }],
        },
        { tool_calls: [{ index: 0, function: { arguments: '{"p":' } }] },
        {
          tool_calls: [{
            index: 1,
            id: "call_2",
            type: "function",
            function: { name: "list", arguments: "" },
          }],
        },
        { tool_calls: [{ index: 0, function: { arguments: "1}" } }] },
        { tool_calls: [{ index: 1, function: { arguments: "{}" } }] },
      ]);
      const [finish, usageChunk, done] = out.slice(-3) as { data: Record<string, unknown> }[];
      assert.equal(
        (finish!.data["choices"] as { finish_reason: string }[])[0]!.finish_reason,
        "tool_calls",
      );
      assert.deepEqual(usageChunk!.data["choices"], []);
      assert.equal((usageChunk!.data["usage"] as { prompt_tokens: number }).prompt_tokens, 120);
      assert.equal(done!.data, "[DONE]");
      const noUsage = encodeAll(new ChatStreamEncoder("m", false), EVENTS);
      assert.equal(noUsage.length, out.length - 1, "no usage chunk unless asked for");
    },
  );
  await t.step("→ chat chunks: an error mid-stream, and a stream cut short", () => {
    const error = encodeAll(new ChatStreamEncoder("m", true), [EVENTS[0]!, EVENTS[2]!, {
      type: "error",
      status: 502,
      errorType: "overloaded_error",
      message: "Overloaded",
    }], true);
    assert.deepEqual(error.at(-1)!.data, {
      error: { message: "Overloaded", type: "overloaded_error", code: null },
    });
    const cut = encodeAll(new ChatStreamEncoder("m", true), [EVENTS[0]!, EVENTS[2]!], true);
    assert.equal(
      (cut.at(-1)!.data as { error: { code: string } }).error.code,
      "incomplete_response",
    );
  });
  await t.step(
    "→ Messages events: blocks in order, tool blocks kept open, usage in message_delta",
    () => {
      const out = encodeAll(new MessagesStreamEncoder("gpt-5.5"), EVENTS);
      assert.deepEqual(out.map((e) => e.event), [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_stop",
        "message_delta",
        "message_stop",
      ]);
      const delta = out.at(-2)!.data as { delta: { stop_reason: string }; usage: unknown };
      assert.equal(delta.delta.stop_reason, "tool_use");
      assert.deepEqual(delta.usage, {
        input_tokens: 13,
        cache_creation_input_tokens: 7,
        cache_read_input_tokens: 100,
        output_tokens: 30,
      });
      const err = encodeAll(new MessagesStreamEncoder("m"), [EVENTS[0]!, {
        type: "error",
        status: 502,
        errorType: "weird",
        message: "x",
      }]);
      assert.deepEqual(err.at(-1), {
        event: "error",
        data: { type: "error", error: { type: "api_error", message: "x" } },
      });
    },
  );
  await t.step(
    "→ Responses events: items added and done, arguments done, completed with output and usage",
    () => {
      const out = encodeAll(new ResponsesStreamEncoder("claude"), EVENTS);
      const types = out.map((e) => (e.data as { type: string }).type);
      assert.deepEqual(types.slice(0, 4), [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
      ]);
      assert.equal(types.at(-1), "response.completed");
      assert.deepEqual(
        out.map((e) => (e.data as { sequence_number: number }).sequence_number),
        types.map((_, i) => i),
      );
      const completed = (out.at(-1)!.data as {
        response: { output: { type: string; arguments?: string }[]; usage: unknown };
      }).response;
      assert.deepEqual(completed.output.map((i) => i.type), [
        "reasoning",
        "message",
        "function_call",
        "function_call",
      ]);
      assert.equal(completed.output[2]!.arguments, '{"p":1}');
      assert.equal((completed.usage as { input_tokens: number }).input_tokens, 120);
      const cut = encodeAll(new ResponsesStreamEncoder("m"), [EVENTS[0]!, EVENTS[2]!, {
        type: "finish",
        finish: "length",
      }]);
      assert.equal((cut.at(-1)!.data as { type: string }).type, "response.incomplete");
    },
  );
});

Deno.test("filters: stop sequences on Responses backends, JSON answers from the forced tool", async (t) => {
  await t.step("a stop sequence split across deltas cuts the text and ends with stop", () => {
    const f = new StopFilter(["END"]);
    const out = [
      { type: "text", delta: "abc E" },
      { type: "text", delta: "NDxyz" },
      { type: "text", delta: "more" },
      { type: "usage", usage },
      { type: "finish", finish: "length" },
    ].flatMap((e) => f.push(e as NeutralEvent));
    assert.deepEqual(out, [
      { type: "text", delta: "abc" },
      { type: "text", delta: " " },
      { type: "usage", usage },
      { type: "finish", finish: "stop" },
    ]);
    assert.equal(new StopFilter(["\n\n"]).answer(answer({ text: "one\n\ntwo" })).text, "one");
  });
  await t.step("text held back for a possible stop sequence is released when none comes", () => {
    const f = new StopFilter(["STOP"]);
    const out = [{ type: "text", delta: "hello ST" }, { type: "finish", finish: "stop" }]
      .flatMap((e) => f.push(e as NeutralEvent));
    assert.deepEqual(out, [{ type: "text", delta: "hello" }, { type: "text", delta: " ST" }, {
      type: "finish",
      finish: "stop",
    }]);
  });
  await t.step("the forced JSON tool becomes text, tool_calls becomes stop", () => {
    const f = new JsonToolFilter("json_answer");
    const out = [
      { type: "tool_start", index: 0, id: "t", name: "json_answer" },
      { type: "tool_args", index: 0, delta: '{"a":' },
      { type: "tool_args", index: 0, delta: "1}" },
      { type: "finish", finish: "tool_calls" },
    ].flatMap((e) => f.push(e as NeutralEvent));
    assert.deepEqual(out, [
      { type: "text", delta: '{"a":' },
      { type: "text", delta: "1}" },
      { type: "finish", finish: "stop" },
    ]);
    const a = new JsonToolFilter("json_answer").answer(answer({
      toolCalls: [{ id: "t", name: "json_answer", arguments: '{"a":1}' }],
      finish: "tool_calls",
    }));
    assert.equal(a.text, '{"a":1}');
    assert.equal(a.finish, "stop");
    assert.deepEqual(a.toolCalls, []);
  });
});

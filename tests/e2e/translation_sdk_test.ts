/**
 * Real clients through the routes that translate between APIs, against a
 * real Kleis process and the strict backend fakes:
 *
 * - the `openai` package's chat.completions.create (JSON and stream, tool
 *   call → tool result → final text) on a Codex, a Claude and a Copilot
 *   (responses-only) model;
 * - `@anthropic-ai/sdk` streaming a tool call from a Codex model through
 *   /v1/messages, read by the SDK's own stream parser;
 * - the AI SDK's `@ai-sdk/openai-compatible` streaming text and a tool call
 *   through /v1/chat/completions.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { jsonSchema, stepCountIs, streamText, tool } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { CODEX_PATH } from "../fakes/chatgpt.ts";
import { startE2e } from "../support/e2e_setup.ts";

const schema = {
  type: "object" as const,
  properties: { path: { type: "string" } },
  required: ["path"],
};
const tools: OpenAI.Chat.ChatCompletionTool[] = [{
  type: "function",
  function: { name: "read", description: "Read a file", parameters: schema },
}];

Deno.test({
  name:
    "openai, @anthropic-ai/sdk and the AI SDK through the translating routes of a Kleis process",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const { fakes, kleis, secret, close } = await startE2e("translation e2e");
  try {
    fakes.chatgpt.setReply("Codex answers a Chat client.");
    fakes.anthropic.setReply("Claude answers a Chat client.");
    fakes.copilot.setReply("Copilot answers a Chat client.");
    const openai = new OpenAI({ apiKey: secret, baseURL: `${kleis.url}/v1` });
    const openaiCodex = new OpenAI({ apiKey: secret, baseURL: `${kleis.url}/openai/v1` });

    const backends = [
      {
        name: "Codex",
        client: openaiCodex,
        model: "gpt-5.5",
        reply: "Codex answers a Chat client.",
        native: () => fakes.chatgpt.lastRequest(CODEX_PATH)!.json as Record<string, unknown>,
        shape: "input",
      },
      {
        name: "Claude",
        client: openai,
        model: "claude-sonnet-4-5",
        reply: "Claude answers a Chat client.",
        native: () => fakes.anthropic.lastRequest("/v1/messages")!.json as Record<string, unknown>,
        shape: "messages",
      },
      {
        name: "Copilot",
        client: openai,
        model: "copilot/gpt-5.2-codex",
        reply: "Copilot answers a Chat client.",
        native: () => fakes.copilot.lastRequest("/responses")!.json as Record<string, unknown>,
        shape: "input",
      },
    ];

    for (const b of backends) {
      await t.step(`chat.completions JSON, tool call round trip on ${b.name}`, async () => {
        const user = { role: "user" as const, content: "please use tool" };
        const first = await b.client.chat.completions.create({
          model: b.model,
          messages: [user],
          tools,
        });
        const message = first.choices[0]!.message;
        assert.equal(first.choices[0]!.finish_reason, "tool_calls");
        const call = message.tool_calls![0]!;
        assert.ok(call.type === "function");
        assert.equal(call.function.name, "read");
        assert.deepEqual(JSON.parse(call.function.arguments), { path: "fake" });
        assert.ok(first.usage!.prompt_tokens > 0);
        const sent = b.native();
        assert.ok(b.shape in sent, `the ${b.name} fake got its own API's body`);
        assert.equal(b.shape === "input" ? "messages" in sent : "input" in sent, false);

        const final = await b.client.chat.completions.create({
          model: b.model,
          tools,
          messages: [user, message, {
            role: "tool",
            tool_call_id: call.id,
            content: "contents of a.txt",
          }],
        });
        assert.equal(final.choices[0]!.message.content, b.reply);
        assert.equal(final.choices[0]!.finish_reason, "stop");
      });

      await t.step(`chat.completions stream with a tool call on ${b.name}`, async () => {
        fakes.chatgpt.setChunking("split", 7);
        fakes.anthropic.setChunking("byte");
        fakes.copilot.setChunking("mixed", 3);
        const stream = await b.client.chat.completions.create({
          model: b.model,
          messages: [{ role: "user", content: "please use tool" }],
          tools,
          stream: true,
          stream_options: { include_usage: true },
        });
        let text = "";
        let args = "";
        let name = "";
        let finish: string | null = null;
        let usage: OpenAI.CompletionUsage | undefined;
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          text += choice?.delta.content ?? "";
          for (const c of choice?.delta.tool_calls ?? []) {
            name += c.function?.name ?? "";
            args += c.function?.arguments ?? "";
          }
          finish = choice?.finish_reason ?? finish;
          usage = chunk.usage ?? usage;
        }
        assert.equal(text, b.reply);
        assert.equal(name, "read");
        assert.deepEqual(JSON.parse(args), { path: "fake" });
        assert.equal(finish, "tool_calls");
        assert.ok(usage && usage.completion_tokens > 0);
      });
    }

    await t.step(
      "@anthropic-ai/sdk streams a tool call from a Codex model via /v1/messages",
      async () => {
        fakes.chatgpt.setChunking("byte");
        fakes.chatgpt.setReply("Codex speaks Messages.");
        const anthropic = new Anthropic({ apiKey: secret, baseURL: kleis.url });
        const stream = anthropic.messages.stream({
          model: "gpt-5.5",
          max_tokens: 1000,
          system: "You are Claude Code, Anthropic's official CLI for Claude.",
          tools: [{ name: "Read", description: "Read a file", input_schema: schema }],
          messages: [{ role: "user", content: "please use tool" }],
        });
        const types: string[] = [];
        stream.on("streamEvent", (event) => types.push(event.type));
        let text = "";
        stream.on("text", (delta) => text += delta);
        const message = await stream.finalMessage();
        assert.equal(text, "Codex speaks Messages.");
        assert.equal(message.stop_reason, "tool_use");
        const toolUse = message.content.find((b) => b.type === "tool_use");
        assert.ok(toolUse && toolUse.type === "tool_use");
        assert.equal(toolUse.name, "Read");
        assert.deepEqual(toolUse.input, { path: "fake" });
        assert.ok(message.usage.output_tokens > 0);
        assert.equal(types[0], "message_start");
        assert.equal(types.at(-1), "message_stop");
        const sent = fakes.chatgpt.lastRequest(CODEX_PATH)!.json as Record<string, unknown>;
        assert.equal(
          sent["instructions"],
          "You are Claude Code, Anthropic's official CLI for Claude.",
        );
      },
    );

    const compatible = createOpenAICompatible({
      name: "kleis",
      baseURL: `${kleis.url}/v1`,
      apiKey: secret,
      includeUsage: true,
    });

    await t.step("AI SDK openai-compatible streams text from a Claude model", async () => {
      fakes.anthropic.setReply("Claude through the AI SDK.");
      const result = streamText({ model: compatible("claude-sonnet-4-5"), prompt: "hello" });
      let text = "";
      for await (const delta of result.textStream) text += delta;
      assert.equal(text, "Claude through the AI SDK.");
      assert.equal(await result.finishReason, "stop");
      assert.ok(((await result.usage).inputTokens ?? 0) > 0);
    });

    await t.step("AI SDK openai-compatible streams a tool call from a Codex model", async () => {
      fakes.chatgpt.setReply("Codex through the AI SDK.");
      const seen: unknown[] = [];
      const result = streamText({
        model: compatible("gpt-5.5"),
        prompt: "please use tool",
        tools: {
          read: tool({
            description: "Read a file",
            inputSchema: jsonSchema<{ path: string }>(schema),
            execute: (input) => {
              seen.push(input);
              return Promise.resolve("contents");
            },
          }),
        },
        stopWhen: stepCountIs(2),
      });
      let text = "";
      for await (const delta of result.textStream) text += delta;
      assert.deepEqual(seen, [{ path: "fake" }]);
      const steps = await result.steps;
      assert.equal(steps.length, 2);
      assert.equal(steps[0]!.finishReason, "tool-calls");
      assert.equal(steps[1]!.finishReason, "stop");
      assert.equal(text, "Codex through the AI SDK.".repeat(2));
    });
  } finally {
    await close();
  }
});

/**
 * Real clients against a real Kleis process (main.ts) and the backend fakes:
 * the `openai` package (Responses, streaming and not, via /openai/v1 and
 * /copilot/v1; Chat Completions streaming via /copilot/v1) and
 * `@anthropic-ai/sdk` (messages streaming with a tool call via /anthropic and
 * /copilot). Accounts are imported and the key created through the admin API.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { CODEX_PATH } from "../fakes/chatgpt.ts";
import { startE2e } from "../support/e2e_setup.ts";

const schema = {
  type: "object" as const,
  properties: { path: { type: "string" } },
  required: ["path"],
};

Deno.test({
  name: "the openai and @anthropic-ai/sdk packages work end to end through a Kleis process",
  // The Kleis child process and the fakes' servers span the steps.
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const { fakes, kleis, secret, close } = await startE2e("sdk e2e");
  try {
    const openaiCodex = new OpenAI({ apiKey: secret, baseURL: `${kleis.url}/openai/v1` });
    const openaiCopilot = new OpenAI({ apiKey: secret, baseURL: `${kleis.url}/copilot/v1` });
    const anthropic = new Anthropic({ apiKey: secret, baseURL: `${kleis.url}/anthropic` });
    const anthropicCopilot = new Anthropic({ apiKey: secret, baseURL: `${kleis.url}/copilot` });

    fakes.chatgpt.setReply("Codex answers through Kleis.");
    fakes.copilot.setReply("Copilot answers through Kleis.");

    await t.step("Responses, not streaming, via /openai/v1 (Codex streams upstream)", async () => {
      fakes.chatgpt.setChunking("split", 5);
      const r = await openaiCodex.responses.create({ model: "gpt-5.5", input: "hello" });
      assert.equal(r.output_text, "Codex answers through Kleis.");
      assert.equal(r.status, "completed");
      const sent = fakes.chatgpt.lastRequest(CODEX_PATH)!.json as Record<string, unknown>;
      assert.equal(sent.stream, true);
      assert.equal(sent.store, false);
    });

    await t.step("Responses streaming via /openai/v1", async () => {
      fakes.chatgpt.setChunking("byte");
      const stream = await openaiCodex.responses.create({
        model: "openai/gpt-5.5",
        input: "hello",
        stream: true,
      });
      let text = "";
      let completed = false;
      for await (const event of stream) {
        if (event.type === "response.output_text.delta") text += event.delta;
        if (event.type === "response.completed") completed = true;
      }
      assert.equal(text, "Codex answers through Kleis.");
      assert.ok(completed);
    });

    await t.step("Responses, streaming and not, via /copilot/v1", async () => {
      const r = await openaiCopilot.responses.create({ model: "gpt-5.2-codex", input: "hello" });
      assert.equal(r.output_text, "Copilot answers through Kleis.");
      fakes.copilot.setChunking("crlf");
      const stream = await openaiCopilot.responses.create({
        model: "copilot/gpt-5.2-codex",
        input: "hello",
        stream: true,
      });
      let text = "";
      for await (const event of stream) {
        if (event.type === "response.output_text.delta") text += event.delta;
      }
      assert.equal(text, "Copilot answers through Kleis.");
    });

    await t.step("Chat Completions streaming via /copilot/v1", async () => {
      fakes.copilot.setChunking("mixed", 3);
      const stream = await openaiCopilot.chat.completions.create({
        model: "gpt-4.1",
        messages: [{ role: "user", content: "hello" }],
        stream: true,
      });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      assert.equal(text, "Copilot answers through Kleis.");
      const sent = fakes.copilot.lastRequest("/chat/completions")!;
      assert.equal(sent.headers["x-initiator"], "user");
      assert.deepEqual((sent.json as { stream_options: unknown }).stream_options, {
        include_usage: true,
      });
    });

    for (const first of ["Read", "mcp_lookup", "bash"]) {
      await t.step(
        `Anthropic messages stream with a tool call named "${first}" via /anthropic`,
        async () => {
          fakes.anthropic.setChunking("byte");
          const tools = [first, "Read", "mcp_lookup", "bash"].filter((n, i, all) =>
            all.indexOf(n) === i
          ).map((name) => ({ name, description: `tool ${name}`, input_schema: schema }));
          const stream = anthropic.messages.stream({
            model: "anthropic/claude-sonnet-4-5",
            max_tokens: 200,
            system: "You are a helpful agent.\nhttps://github.com/anomalyco/opencode",
            tools,
            messages: [{ role: "user", content: "please use tool" }],
          });
          const message = await stream.finalMessage();
          const toolUse = message.content.find((b) => b.type === "tool_use");
          assert.ok(toolUse && toolUse.type === "tool_use");
          assert.equal(toolUse.name, first);
          assert.equal(message.stop_reason, "tool_use");
        },
      );
    }

    await t.step("Anthropic messages stream with a tool call via /copilot", async () => {
      fakes.copilot.setChunking("split", 11);
      const stream = anthropicCopilot.messages.stream({
        model: "copilot/claude-sonnet-4.5",
        max_tokens: 200,
        tools: [{ name: "Read", description: "read", input_schema: schema }],
        messages: [{ role: "user", content: "please use tool" }],
      });
      const message = await stream.finalMessage();
      const toolUse = message.content.find((b) => b.type === "tool_use");
      assert.ok(toolUse && toolUse.type === "tool_use");
      assert.equal(toolUse.name, "Read");
      const sent = fakes.copilot.lastRequest("/v1/messages")!;
      assert.match(sent.headers["anthropic-beta"] ?? "", /interleaved-thinking-2025-05-14/);
    });

    await t.step(
      "a client that aborts mid-stream cancels the backend request within a second",
      async () => {
        fakes.chatgpt.setChunking("normal");
        fakes.chatgpt.stallMidStream(20_000);
        const controller = new AbortController();
        const stream = await openaiCodex.responses.create(
          { model: "gpt-5.5", input: "hello", stream: true },
          { signal: controller.signal },
        );
        const iterator = stream[Symbol.asyncIterator]();
        await iterator.next();
        controller.abort();
        await fakes.chatgpt.waitForCancel(1000);
      },
    );

    await t.step(
      "headers outside the allowlist never reach a backend, set-cookie never comes back",
      async () => {
        const res = await fetch(`${kleis.url}/anthropic/v1/messages`, {
          method: "POST",
          headers: {
            "x-api-key": secret,
            "content-type": "application/json",
            cookie: "session=abc",
            "x-forwarded-for": "10.1.2.3",
            "x-made-up-header": "nope",
          },
          body: JSON.stringify({
            model: "claude-sonnet-4-5",
            max_tokens: 10,
            messages: [{ role: "user", content: "hi" }],
          }),
        });
        assert.equal(res.status, 200);
        await res.body?.cancel();
        assert.equal(res.headers.get("set-cookie"), null);
        assert.ok(res.headers.get("x-kleis-account"));
        assert.ok(res.headers.get("x-kleis-request-id"));
        const seen = fakes.anthropic.lastRequest("/v1/messages")!.headers;
        assert.equal(seen["cookie"], undefined);
        assert.equal(seen["x-forwarded-for"], undefined);
        assert.equal(seen["x-made-up-header"], undefined);
        assert.equal(seen["x-api-key"], undefined);
      },
    );
  } finally {
    await close();
  }
});

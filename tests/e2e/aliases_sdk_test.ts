/**
 * Aliases and effort suffixes end to end: a real Kleis process, the backend
 * fakes, aliases made through the admin API, and the `openai` package as the
 * client. Checks what reached each fake backend, the model list, and that
 * usage is recorded under the target model.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { CODEX_PATH } from "../fakes/chatgpt.ts";
import { adminRequest, startE2e } from "../support/e2e_setup.ts";

type Body = Record<string, unknown>;

Deno.test({
  name: "the openai package with an alias and effort suffixes through a Kleis process",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const { fakes, kleis, secret, close } = await startE2e("aliases e2e");
  const admin = (method: string, path: string, body?: unknown) =>
    adminRequest(kleis, method, path, body);
  try {
    fakes.chatgpt.setReply("Codex thought hard.");
    fakes.copilot.setReply("Copilot was fast.");
    fakes.anthropic.setReply("Claude thought.");
    const openai = new OpenAI({ apiKey: secret, baseURL: `${kleis.url}/v1` });

    await t.step("the admin API makes the alias", async () => {
      const res = await admin("PUT", "/aliases/fast", { target: "copilot/gpt-5-mini" });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      assert.equal(res.json.alias.available, true);
    });

    await t.step("models.list() has the alias", async () => {
      const ids: string[] = [];
      for await (const model of openai.models.list()) ids.push(model.id);
      assert.ok(ids.includes("fast"), ids.join());
      assert.ok(ids.includes("gpt-5.5"));
    });

    await t.step("chat.completions with the alias reaches Copilot's gpt-5-mini", async () => {
      const answer = await openai.chat.completions.create({
        model: "fast",
        messages: [{ role: "user", content: "hello" }],
      });
      assert.equal(answer.choices[0]!.message.content, "Copilot was fast.");
      const sent = fakes.copilot.lastRequest("/responses")!.json as Body;
      assert.equal(sent.model, "gpt-5-mini");
    });

    await t.step("responses.create with a suffix: Codex gets reasoning.effort", async () => {
      const answer = await openai.responses.create({
        model: "gpt-5.5-high",
        input: "think",
        reasoning: { effort: "low" },
      });
      assert.equal(answer.output_text, "Codex thought hard.");
      const sent = fakes.chatgpt.lastRequest(CODEX_PATH)!.json as Body;
      assert.equal(sent.model, "gpt-5.5");
      assert.equal((sent.reasoning as Body).effort, "high");
    });

    await t.step("a streamed chat with a Claude thinking suffix", async () => {
      const stream = await openai.chat.completions.create({
        model: "claude-sonnet-4-5-thinking-high",
        messages: [{ role: "user", content: "hello" }],
        max_tokens: 500,
        stream: true,
      });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      assert.equal(text, "Claude thought.");
      const sent = fakes.anthropic.lastRequest("/v1/messages")!.json as Body;
      assert.equal(sent.model, "claude-sonnet-4-5");
      assert.deepEqual(sent.thinking, { type: "enabled", budget_tokens: 16384 });
      assert.equal(sent.max_tokens, 500 + 16384);
    });

    await t.step("a refused suffix is the SDK's BadRequestError", async () => {
      await assert.rejects(
        openai.chat.completions.create({
          model: "copilot/gpt-4.1-high",
          messages: [{ role: "user", content: "hello" }],
        }),
        (error: unknown) =>
          error instanceof OpenAI.BadRequestError && error.code === "unsupported_effort",
      );
    });

    await t.step("usage is recorded under the target models", async () => {
      let models: string[] = [];
      for (let i = 0; i < 300; i++) {
        const res = await admin("GET", "/usage?groupBy=model");
        models = (res.json.groups as { key: string }[]).map((g) => g.key);
        if (["gpt-5-mini", "gpt-5.5", "claude-sonnet-4-5"].every((m) => models.includes(m))) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(models.includes("gpt-5-mini"), models.join());
      assert.ok(models.includes("gpt-5.5"), models.join());
      assert.ok(models.includes("claude-sonnet-4-5"), models.join());
      assert.ok(!models.includes("fast") && !models.includes("gpt-5.5-high"), models.join());
    });

    await t.step("after DELETE the alias is gone from the list and unknown", async () => {
      assert.equal((await admin("DELETE", "/aliases/fast")).status, 200);
      await assert.rejects(
        openai.chat.completions.create({
          model: "fast",
          messages: [{ role: "user", content: "hello" }],
        }),
        (error: unknown) =>
          error instanceof OpenAI.BadRequestError && error.code === "unknown_model",
      );
    });
  } catch (error) {
    console.error(kleis.output().slice(-4000));
    throw error;
  } finally {
    await close();
  }
});

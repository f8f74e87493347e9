import assert from "node:assert/strict";
import { CLAUDE_IDENTITY_PROMPT } from "./anthropic.ts";
import { type AllFakes, CHUNKINGS, parseSse, startAllFakes } from "./mod.ts";
import { chunkEvents, sseEvent } from "./sse.ts";
import {
  call,
  claudeBody,
  claudeHeaders,
  codexBody,
  codexHeaders,
  copilotHeaders,
  post,
} from "./test_helpers.ts";

Deno.test("model backend fakes reject what the real backends reject", async (t) => {
  const f: AllFakes = await startAllFakes();
  try {
    await t.step("anthropic: identity block, betas, tool names, classifier", async () => {
      const url = `${f.anthropic.url}/v1/messages?beta=true`;
      const expect400 = async (body: unknown, headers = claudeHeaders(), u = url) => {
        const r = await call(u, post(body, headers));
        assert.equal(r.res.status, 400, r.text);
        assert.equal(JSON.parse(r.text).type, "error");
      };
      await expect400(claudeBody({ system: "You are helpful." }));
      await expect400(claudeBody(), claudeHeaders(), `${f.anthropic.url}/v1/messages`);
      await expect400(claudeBody({ tools: [{ name: "mcp_bash", input_schema: {} }] }));
      await expect400(claudeBody({
        system: [{ type: "text", text: CLAUDE_IDENTITY_PROMPT }, {
          type: "text",
          text: "See https://github.com/anomalyco/opencode",
        }],
      }));
      await expect400(claudeBody(), { ...claudeHeaders(), "anthropic-beta": "oauth-2025-04-20" });
      const apiKey = await call(url, post(claudeBody(), { ...claudeHeaders(), "x-api-key": "k" }));
      assert.equal(apiKey.res.status, 401);
      const noOauth = await call(
        url,
        post(claudeBody(), { ...claudeHeaders(), "anthropic-beta": "claude-code-20250219" }),
      );
      assert.equal(noOauth.res.status, 401);
      const ok = await call(url, post(claudeBody(), claudeHeaders()));
      assert.equal(ok.res.status, 200, ok.text);
      assert.equal(JSON.parse(ok.text).content[0].text, "Hello from fake Claude");
      assert.ok(ok.res.headers.get("set-cookie"));
      assert.ok(ok.res.headers.get("anthropic-ratelimit-unified-5h-utilization"));
    });

    await t.step("anthropic: every chunking reassembles to the same events", async () => {
      const body = claudeBody({
        stream: true,
        tools: [{ name: "mcp_Read", input_schema: { properties: { path: { type: "string" } } } }],
        messages: [{ role: "user", content: "please use tool" }],
      });
      const seen: string[] = [];
      for (const chunking of CHUNKINGS) {
        f.anthropic.chunking = chunking;
        const r = await call(
          `${f.anthropic.url}/v1/messages?beta=true`,
          post(body, claudeHeaders()),
        );
        const events = parseSse(r.text).map((e) => {
          const d = JSON.parse(e.data);
          if (d.message) d.message.id = "x";
          if (d.content_block?.id) d.content_block.id = "x";
          return `${e.event}|${JSON.stringify(d)}`;
        });
        seen.push(events.join("\n"));
        assert.ok(events.some((e) => e.includes('"name":"mcp_Read"')));
      }
      f.anthropic.chunking = "normal";
      assert.equal(new Set(seen).size, 1);
      const bytes = chunkEvents([sseEvent("a", { x: "é" })], "byte");
      assert.ok(bytes.every((c) => c.length === 1));
    });

    await t.step("chatgpt: body rules answer 400 detail", async () => {
      const url = `${f.chatgpt.url}/backend-api/codex/responses`;
      for (
        const bad of [
          codexBody({ store: undefined }),
          codexBody({ stream: false }),
          codexBody({ instructions: "" }),
          codexBody({ temperature: 0.2 }),
          codexBody({ model: "openai/gpt-5.5" }),
        ]
      ) {
        const r = await call(url, post(bad, codexHeaders));
        assert.equal(r.res.status, 400);
        assert.equal(typeof JSON.parse(r.text).detail, "string");
      }
      const wrongAccount = await call(
        url,
        post(codexBody(), { ...codexHeaders, "chatgpt-account-id": "acct-other" }),
      );
      assert.equal(wrongAccount.res.status, 400);
      const unknown = await call(url, post(codexBody(), { authorization: "Bearer nope" }));
      assert.equal(unknown.res.status, 401);
      f.chatgpt.setOmitContentType(true);
      const ok = await call(url, post(codexBody(), codexHeaders));
      f.chatgpt.setOmitContentType(false);
      assert.equal(ok.res.headers.get("content-type"), null);
      const types = parseSse(ok.text).map((e) => JSON.parse(e.data).type);
      assert.equal(types[0], "response.created");
      assert.equal(types.at(-1), "response.completed");
      assert.ok(!ok.text.includes("[DONE]"));
    });

    await t.step("failNext, failWhen and cancellation controls", async () => {
      const url = `${f.chatgpt.url}/backend-api/codex/responses`;
      f.chatgpt.failNext({
        status: 429,
        body: { error: { type: "usage_limit_reached", resets_at: 1 } },
      });
      assert.equal((await call(url, post(codexBody(), codexHeaders))).res.status, 429);
      const stop = f.chatgpt.failWhen((req) =>
        req.headers["chatgpt-account-id"] === "acct-fixture-0001" ? { status: 503 } : undefined
      );
      assert.equal((await call(url, post(codexBody(), codexHeaders))).res.status, 503);
      stop();
      f.chatgpt.resetMidStream();
      const reset = await fetch(url, post(codexBody(), codexHeaders));
      await assert.rejects(reset.text());
      f.chatgpt.stallMidStream(5_000);
      const abort = new AbortController();
      const stalled = await fetch(url, {
        ...post(codexBody(), codexHeaders),
        signal: abort.signal,
      });
      const reader = stalled.body!.getReader();
      await reader.read();
      abort.abort();
      await f.chatgpt.waitForCancel(1000);
      assert.equal(f.chatgpt.cancelled, 1);
    });

    await t.step("copilot: embeddings take an input array and known fields only", async () => {
      const embed = (body: unknown, headers: Record<string, string> = copilotHeaders()) =>
        call(`${f.copilot.url}/embeddings`, post(body, headers));
      const model = "text-embedding-3-small";
      const refused = async (body: unknown, code: string, headers?: Record<string, string>) => {
        const r = await embed(body, headers);
        assert.equal(r.res.status, 400, r.text);
        assert.equal(JSON.parse(r.text).error.code, code, r.text);
      };
      await refused({ model, input: "a string" }, "invalid_request_body");
      await refused({ model }, "invalid_request_body");
      await refused({ model, input: [] }, "invalid_request_body");
      await refused({ model, input: ["a"], encoding_format: "base64" }, "invalid_request_body");
      await refused({ model, input: ["a"], dimensions: 4096 }, "invalid_request_body");
      await refused(
        { model: "text-embedding-ada-002", input: ["a"], dimensions: 8 },
        "invalid_request_body",
      );
      await refused({ model: "gpt-4.1", input: ["a"] }, "model_not_supported");
      await refused({ model, input: ["a"] }, "bad_request", {
        ...copilotHeaders(),
        "x-initiator": "",
      });
      const ok = await embed({ model, input: ["a", [1, 2]], dimensions: 4 });
      assert.equal(ok.res.status, 200, ok.text);
      const body = JSON.parse(ok.text);
      assert.deepEqual(Object.keys(body), ["data", "usage"]);
      assert.deepEqual(body.data.map((d: { embedding: number[] }) => d.embedding.length), [4, 4]);
      assert.deepEqual(body.usage, { prompt_tokens: 3, total_tokens: 3 });
      const listed = JSON.parse(
        (await call(`${f.copilot.url}/models`, { headers: copilotHeaders() })).text,
      );
      const embedding = listed.data.find((m: { id: string }) => m.id === model);
      assert.equal(embedding.capabilities.type, "embeddings");
      assert.equal(embedding.dimensions, undefined, "the fake's own field is not listed");
    });

    await t.step("copilot: headers, endpoints per model, usage only when asked", async () => {
      const chat = (body: unknown, headers = copilotHeaders()) =>
        call(`${f.copilot.url}/chat/completions`, post(body, headers));
      const msg = [{ role: "user", content: "hi" }];
      const noInit = await chat({ model: "gpt-4.1", messages: msg }, {
        ...copilotHeaders(),
        "x-initiator": "",
      });
      assert.equal(noInit.res.status, 400);
      const codex = await chat({ model: "gpt-5.2-codex", messages: msg });
      assert.equal(JSON.parse(codex.text).error.code, "unsupported_api_for_model");
      const noUsage = await chat({ model: "gpt-4.1", messages: msg, stream: true });
      assert.ok(noUsage.text.trimEnd().endsWith("data: [DONE]"));
      assert.ok(!noUsage.text.includes('"usage"'));
      const usage = await chat({
        model: "gpt-4.1",
        messages: msg,
        stream: true,
        stream_options: { include_usage: true },
      });
      assert.ok(usage.text.includes('"usage"'));
      const models = JSON.parse(
        (await call(`${f.copilot.url}/models`, {
          headers: copilotHeaders(),
        })).text,
      );
      assert.ok(
        models.data.some((m: { policy: { state: string } }) => m.policy.state === "disabled"),
      );
      const unauth = await chat(
        { model: "gpt-4.1", messages: msg },
        copilotHeaders("ghu_fixtureEditorToken0001"),
      );
      assert.equal(unauth.res.status, 401, "ghu_ tokens need the exchange");
    });

    await t.step(
      "copilot: responses stream with event lines, messages JSON with tool_use",
      async () => {
        const tools = [{
          type: "function",
          name: "bash",
          parameters: { properties: { cmd: { type: "string" } } },
        }];
        const r = await call(
          `${f.copilot.url}/responses`,
          post(
            { model: "gpt-5.2-codex", input: "please use tool", tools, stream: true },
            copilotHeaders(),
          ),
        );
        const events = parseSse(r.text);
        assert.ok(events.every((e) => e.event === JSON.parse(e.data).type));
        const done = JSON.parse(events.at(-1)!.data);
        assert.equal(done.response.output[1].name, "bash");
        const temp = await call(
          `${f.copilot.url}/responses`,
          post({ model: "gpt-5.2", input: "hi", temperature: 0.5 }, copilotHeaders()),
        );
        assert.equal(temp.res.status, 400);
        const m = await call(
          `${f.copilot.url}/v1/messages`,
          post({
            model: "claude-sonnet-4.5",
            max_tokens: 50,
            messages: [{ role: "user", content: "use tool" }],
            tools: [{ name: "read", input_schema: {} }],
          }, copilotHeaders()),
        );
        const msg = JSON.parse(m.text);
        assert.equal(msg.stop_reason, "tool_use");
        assert.equal(msg.content[1].name, "read");
      },
    );

    await t.step("stallNext holds the answer; an abandoned stall counts as cancelled", async () => {
      const before = f.copilot.cancelled;
      f.copilot.stallNext(5_000);
      await assert.rejects(
        fetch(`${f.copilot.url}/chat/completions`, {
          ...post({ model: "gpt-4.1", messages: [] }, copilotHeaders()),
          signal: AbortSignal.timeout(50),
        }),
      );
      await f.copilot.waitForCancel(1000);
      assert.equal(f.copilot.cancelled, before + 1);
    });

    await t.step("models.dev: ok, error and hang modes", async () => {
      const ok = JSON.parse((await call(f.env.KLEIS_MODELS_DEV_URL!)).text);
      assert.equal(ok.openai.models["gpt-5.5"].limit.context, 400000);
      f.modelsDev.setMode("error");
      assert.equal((await call(f.env.KLEIS_MODELS_DEV_URL!)).res.status, 503);
      f.modelsDev.setMode("hang");
      await assert.rejects(fetch(f.env.KLEIS_MODELS_DEV_URL!, { signal: AbortSignal.timeout(50) }));
      f.modelsDev.setMode("ok");
    });
  } finally {
    await f.close();
  }
});

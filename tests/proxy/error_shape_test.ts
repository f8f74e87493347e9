/**
 * Backend errors reach the client in the route's own error shape, with the
 * backend's status and message: unit cases for nativeErrorText(), then the
 * real `openai` and `@anthropic-ai/sdk` packages against every provider
 * route (in process, backends faked on loopback).
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { MAX_MESSAGE_LENGTH, nativeErrorText } from "../../src/proxy/error_shape.ts";
import { startHarness } from "./harness.ts";
import { CODEX_PATH } from "../fakes/chatgpt.ts";

const openaiShape = (message: string, type: string, code: string) =>
  JSON.stringify({ error: { message, type, code } });
const anthropicShape = (message: string, type: string) =>
  JSON.stringify({ type: "error", error: { type, message } });

Deno.test("nativeErrorText(): every known backend shape into the route's shape", async (t) => {
  await t.step("a body already in the route's shape is left byte for byte", () => {
    const openai = '{"error":{"message":"bad","type":"invalid_request_error","code":null}}';
    assert.equal(nativeErrorText("openai", 400, openai, "Codex"), undefined);
    const anthropic = '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}';
    assert.equal(nativeErrorText("anthropic", 529, anthropic, "Claude"), undefined);
    assert.equal(nativeErrorText("kleis", 400, '{"detail":"x"}', "Codex"), undefined);
  });

  await t.step("Codex {detail} → OpenAI shape", () => {
    assert.equal(
      nativeErrorText("openai", 400, '{"detail":"Unsupported parameter: foo"}', "Codex"),
      openaiShape("Unsupported parameter: foo", "invalid_request_error", "backend_error"),
    );
  });

  await t.step("FastAPI validation details are joined", () => {
    const text = JSON.stringify({
      detail: [{ loc: ["body", "input"], msg: "field required" }, {
        msg: "bad model",
      }],
    });
    assert.equal(
      nativeErrorText("openai", 422, text, "Codex"),
      openaiShape("field required; bad model", "api_error", "backend_error"),
    );
  });

  await t.step("an OpenAI-shaped error on an Anthropic route keeps its message", () => {
    const text = openaiShape("You have no quota", "insufficient_quota", "quota_exceeded");
    assert.equal(
      nativeErrorText("anthropic", 402, text, "GitHub Copilot"),
      anthropicShape("You have no quota", "api_error"),
    );
  });

  await t.step("an Anthropic-shaped error already reads as OpenAI's: left as it is", () => {
    // The openai SDK reads body.error.message, which the Anthropic shape has too.
    const text = anthropicShape("model: nope", "not_found_error");
    assert.equal(nativeErrorText("openai", 404, text, "Claude"), undefined);
  });

  // [name, route style, status, backend body, backend name, expected body]
  const cases: [string, "openai" | "anthropic", number, string, string, string][] = [
    [
      "OAuth-style error and description",
      "openai",
      400,
      '{"error":"invalid_grant","error_description":"Token revoked"}',
      "Codex",
      openaiShape("Token revoked", "invalid_request_error", "invalid_grant"),
    ],
    [
      "flat message and code",
      "openai",
      403,
      '{"message":"Forbidden by policy","code":"policy"}',
      "X",
      openaiShape("Forbidden by policy", "permission_error", "policy"),
    ],
    [
      "error as a plain string",
      "anthropic",
      400,
      '{"error":"plain string"}',
      "Claude",
      anthropicShape("plain string", "invalid_request_error"),
    ],
    [
      "an errors list",
      "openai",
      400,
      '{"errors":[{"message":"first"},{"message":"2"}]}',
      "X",
      openaiShape("first", "invalid_request_error", "backend_error"),
    ],
    [
      "plain text is the message",
      "openai",
      502,
      "upstream connect error\n",
      "Codex (ChatGPT)",
      openaiShape("upstream connect error", "api_error", "backend_error"),
    ],
    [
      "an HTML page is not",
      "anthropic",
      502,
      "<html><body>Bad gateway</body></html>",
      "Claude",
      anthropicShape("The Claude backend answered 502 without a message.", "api_error"),
    ],
    [
      "an empty body",
      "openai",
      500,
      "",
      "GitHub Copilot",
      openaiShape(
        "The GitHub Copilot backend answered 500 without a message.",
        "api_error",
        "backend_error",
      ),
    ],
    [
      "JSON without any message",
      "openai",
      400,
      '{"unrelated":true}',
      "Codex",
      openaiShape(
        "The Codex backend answered 400 without a message.",
        "invalid_request_error",
        "backend_error",
      ),
    ],
  ];
  for (const [name, style, status, text, backend, expected] of cases) {
    await t.step(name, () => {
      assert.equal(nativeErrorText(style, status, text, backend), expected);
    });
  }

  await t.step("an over-long message is cut", () => {
    const text = JSON.stringify({ detail: "x".repeat(10_000) });
    const out = JSON.parse(nativeErrorText("openai", 400, text, "Codex")!);
    assert.equal(out.error.message.length, MAX_MESSAGE_LENGTH);
    assert.ok(out.error.message.endsWith("…"));
  });
});

Deno.test("backend errors reach the openai and Anthropic SDKs with the backend's status and message", async (t) => {
  await using h = await startHarness();
  await h.codexAccount("c1");
  await h.claudeAccount("a1");
  await h.copilotAccount("g1");
  // The SDKs talk to the in-process app: their fetch goes to h.request's app.
  const fetchApp: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const res = await h.request(url.pathname, String(init?.body ?? ""));
    return res;
  };
  const options = { apiKey: "kleis_test", maxRetries: 0, fetch: fetchApp };

  await t.step(
    "Codex {detail} on /openai/v1/responses → openai APIError with that text",
    async () => {
      const client = new OpenAI({ ...options, baseURL: "http://kleis.test/openai/v1" });
      const detail = "Unsupported parameter: temperature";
      h.fakes.chatgpt.failNext({ status: 400, body: { detail } });
      const error = await client.responses.create({ model: "gpt-5.5", input: "hi" }).then(
        () => assert.fail("the call should fail"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.equal(error.status, 400);
      assert.equal(error.message, `400 ${detail}`);
      assert.equal((error.error as { message: string }).message, detail);
      assert.ok(h.fakes.chatgpt.lastRequest(CODEX_PATH), "the backend was called");
    },
  );

  await t.step("the same when the client streams", async () => {
    const client = new OpenAI({ ...options, baseURL: "http://kleis.test/openai/v1" });
    h.fakes.chatgpt.failNext({ status: 400, body: { detail: "Input must be a list" } });
    const error = await client.responses.create({ model: "gpt-5.5", input: "hi", stream: true })
      .then(() => assert.fail("the call should fail"), (e: unknown) => e);
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.message, "400 Input must be a list");
  });

  await t.step("Copilot plain text on /copilot/v1/chat/completions", async () => {
    const client = new OpenAI({ ...options, baseURL: "http://kleis.test/copilot/v1" });
    h.fakes.copilot.failNext({ status: 400, body: "model gpt-x is not supported" });
    const error = await client.chat.completions.create({
      model: "gpt-4.1",
      messages: [{ role: "user", content: "hi" }],
    }).then(() => assert.fail("the call should fail"), (e: unknown) => e);
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 400);
    assert.equal(error.message, "400 model gpt-x is not supported");
    // Parsed from an OpenAI-shaped JSON body, not taken from raw text.
    assert.deepEqual(error.error, {
      message: "model gpt-x is not supported",
      type: "invalid_request_error",
      code: "backend_error",
    });
  });

  await t.step(
    "Copilot OpenAI-shaped error on /copilot/v1/messages → Anthropic shape",
    async () => {
      const client = new Anthropic({ ...options, baseURL: "http://kleis.test/copilot" });
      h.fakes.copilot.failNext({
        status: 400,
        body: { error: { message: "prompt too long", code: "invalid_request_body" } },
      });
      const error = await client.messages.create({
        model: "claude-sonnet-4.5",
        max_tokens: 10,
        messages: [{ role: "user", content: "hi" }],
      }).then(() => assert.fail("the call should fail"), (e: unknown) => e);
      assert.ok(error instanceof Anthropic.APIError, String(error));
      assert.equal(error.status, 400);
      assert.match(error.message, /prompt too long/);
      assert.deepEqual(error.error, {
        type: "error",
        error: { type: "invalid_request_error", message: "prompt too long" },
      });
    },
  );

  await t.step(
    "Claude {detail}-style body on /anthropic/v1/messages → Anthropic shape",
    async () => {
      const client = new Anthropic({ ...options, baseURL: "http://kleis.test/anthropic" });
      h.fakes.anthropic.failNext({ status: 400, body: { detail: "gateway refused the body" } });
      const error = await client.messages.create({
        model: "claude-sonnet-4-5",
        max_tokens: 10,
        messages: [{ role: "user", content: "hi" }],
      }).then(() => assert.fail("the call should fail"), (e: unknown) => e);
      assert.ok(error instanceof Anthropic.APIError);
      assert.equal(error.status, 400);
      assert.equal(
        (error.error as { error: { type: string; message: string } }).error.message,
        "gateway refused the body",
      );
    },
  );

  await t.step("a native Anthropic error passes byte for byte", async () => {
    const native = anthropicShape("max_tokens: too large", "invalid_request_error");
    h.fakes.anthropic.failNext({ status: 400, body: native });
    const res = await h.request("/anthropic/v1/messages", {
      model: "claude-sonnet-4-5",
      max_tokens: 10,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(res.status, 400);
    assert.equal(await res.text(), native);
  });
});

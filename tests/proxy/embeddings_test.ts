/**
 * Embeddings on /copilot/v1/embeddings and /v1/embeddings against the strict
 * Copilot fake: what goes upstream (inputs always as an array, never
 * encoding_format), base64 answers, the OpenAI answer shape, which models are
 * accepted, bad bodies refused before any backend call, key scopes,
 * failover on a 429 and the usage event.
 */
import assert from "node:assert/strict";
import { startHarness, testKey } from "./harness.ts";
import { bearer } from "../fakes/server.ts";
import { fakeEmbedding } from "../fakes/copilot.ts";
import { floatsToBase64 } from "../../src/providers/copilot/embeddings.ts";
import { setAlias } from "../../src/registry/alias_service.ts";

const UPSTREAM = "/embeddings";

function decode(base64: string): number[] {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

Deno.test("embeddings: both routes, float and base64, the OpenAI answer shape", async (t) => {
  await using h = await startHarness();
  const account = await h.copilotAccount("emb");

  await t.step("a string input goes upstream as an array; floats come back", async () => {
    const res = await h.request("/copilot/v1/embeddings", {
      model: "text-embedding-3-small",
      input: "hello",
      encoding_format: "float",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-kleis-account"), account.account.id);
    const body = await res.json();
    assert.deepEqual(Object.keys(body), ["object", "data", "usage", "model"]);
    assert.equal(body.object, "list");
    assert.equal(body.model, "text-embedding-3-small");
    assert.deepEqual(body.data, [{
      object: "embedding",
      index: 0,
      embedding: fakeEmbedding("hello", 1536),
    }]);
    assert.deepEqual(body.usage, { prompt_tokens: 2, total_tokens: 2 });
    const sent = h.fakes.copilot.lastRequest(UPSTREAM)!;
    assert.deepEqual(sent.json, { model: "text-embedding-3-small", input: ["hello"] });
    assert.equal(bearer(sent), account.accessToken);
    assert.equal(sent.headers["x-initiator"], "agent");
    assert.equal(sent.headers["openai-intent"], "conversation-edits");
    assert.equal(h.fakes.copilot.premiumRequests, 0);
  });

  await t.step("base64 on /v1/embeddings: little-endian float32 of the same vectors", async () => {
    const res = await h.request("/v1/embeddings", {
      model: "copilot/text-embedding-3-small",
      input: ["one", "two"],
      encoding_format: "base64",
      dimensions: 8,
      user: "u1",
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.data.length, 2);
    for (const [i, text] of ["one", "two"].entries()) {
      assert.equal(body.data[i].index, i);
      assert.equal(typeof body.data[i].embedding, "string");
      assert.deepEqual(decode(body.data[i].embedding), fakeEmbedding(text, 8));
      assert.equal(body.data[i].embedding, floatsToBase64(fakeEmbedding(text, 8)));
    }
    assert.deepEqual(h.fakes.copilot.lastRequest(UPSTREAM)!.json, {
      model: "text-embedding-3-small",
      input: ["one", "two"],
      dimensions: 8,
      user: "u1",
    });
  });

  await t.step("token arrays: one array is one input", async () => {
    const one = await h.request("/v1/embeddings", {
      model: "text-embedding-3-small",
      input: [1, 2, 3],
    });
    assert.equal(one.status, 200);
    assert.equal((await one.json()).data.length, 1);
    assert.deepEqual(h.fakes.copilot.lastRequest(UPSTREAM)!.json, {
      model: "text-embedding-3-small",
      input: [[1, 2, 3]],
    });
    const two = await h.request("/v1/embeddings", {
      model: "text-embedding-3-small",
      input: [[1, 2], [3]],
    });
    assert.equal((await two.json()).usage.prompt_tokens, 3);
  });

  await t.step("the usage event counts prompt tokens as input", () => {
    const events = h.usage.filter((e) => e.model === "text-embedding-3-small");
    assert.equal(events.length, 4);
    assert.deepEqual(
      events.map((e) => [e.endpoint, e.provider, e.status, e.inputTokens, e.outputTokens]),
      [
        ["/copilot/v1/embeddings", "copilot", 200, 2, 0],
        ["/v1/embeddings", "copilot", 200, 2, 0],
        ["/v1/embeddings", "copilot", 200, 3, 0],
        ["/v1/embeddings", "copilot", 200, 3, 0],
      ],
    );
    assert.ok(events.every((e) => e.accountId === account.account.id && e.attempts === 1));
  });
});

Deno.test("embeddings: wrong models and bad bodies are 400s before any backend call", async (t) => {
  await using h = await startHarness();
  await h.copilotAccount("emb");
  await h.codexAccount("codex");
  await h.claudeAccount("claude");
  const refused = async (path: string, body: unknown, status: number, code: string) => {
    h.fakes.copilot.clearRequests();
    const res = await h.request(path, body);
    const json = await res.json();
    assert.equal(res.status, status, JSON.stringify(json));
    assert.equal(json.error.code, code, JSON.stringify(json));
    assert.equal(json.error.type, status === 403 ? "permission_error" : "invalid_request_error");
    assert.equal(h.fakes.copilot.requestsTo(UPSTREAM).length, 0, "nothing sent");
    return json.error.message as string;
  };
  const model = "text-embedding-3-small";

  await t.step("Codex and Claude models: no embeddings there", async () => {
    for (
      const m of ["gpt-5.5", "codex/gpt-5.5", "claude-sonnet-4-5", "anthropic/claude-sonnet-4-5"]
    ) {
      const message = await refused(
        "/v1/embeddings",
        { model: m, input: "x" },
        400,
        "embeddings_unsupported",
      );
      assert.match(message, /copilot\/text-embedding-3-small/);
    }
    await refused(
      "/copilot/v1/embeddings",
      { model: "codex/gpt-5.5", input: "x" },
      400,
      "wrong_provider",
    );
  });

  await t.step("a chat model or an unknown id is not an embedding model", async () => {
    for (const path of ["/v1/embeddings", "/copilot/v1/embeddings"]) {
      for (const m of ["gpt-4.1", "copilot/gpt-4.1", "no-such-model"]) {
        await refused(path, { model: m, input: "x" }, 400, "not_an_embedding_model");
      }
    }
  });

  await t.step("bad bodies name the field", async () => {
    const cases: [unknown, string][] = [
      [{ model }, "invalid_request"],
      [{ model, input: "" }, "invalid_request"],
      [{ model, input: [] }, "invalid_request"],
      [{ model, input: [1, "a"] }, "invalid_request"],
      [{ model, input: [[1], []] }, "invalid_request"],
      [{ model, input: { text: "a" } }, "invalid_request"],
      [{ model, input: Array(2049).fill("a") }, "invalid_request"],
      [{ model, input: "a", encoding_format: "int8" }, "invalid_request"],
      [{ model, input: "a", dimensions: 0 }, "invalid_request"],
      [{ model, input: "a", dimensions: 1.5 }, "invalid_request"],
      [{ model, input: "a", user: 7 }, "invalid_request"],
      [{ model, input: "a", stream: true }, "unsupported_field"],
      [{ input: "a" }, "missing_model"],
    ];
    for (const [body, code] of cases) await refused("/v1/embeddings", body, 400, code);
    const message = await refused(
      "/copilot/v1/embeddings",
      { model, input: "a", truncate: 1 },
      400,
      "unsupported_field",
    );
    assert.match(message, /"truncate"/);
  });

  await t.step("what the fake refuses itself comes back in the OpenAI shape", async () => {
    const res = await h.request("/copilot/v1/embeddings", {
      model: "text-embedding-ada-002",
      input: "a",
      dimensions: 8,
    });
    assert.equal(res.status, 400);
    const json = await res.json();
    assert.match(json.error.message, /dimensions/);
  });

  await t.step("key scopes: provider and model", async () => {
    h.key = testKey({ providers: ["codex"] });
    await refused("/v1/embeddings", { model, input: "a" }, 403, "provider_not_allowed");
    h.key = testKey({ models: ["copilot/gpt-*"] });
    await refused("/copilot/v1/embeddings", { model, input: "a" }, 403, "model_not_allowed");
    h.key = testKey({ models: ["copilot/text-embedding-*"] });
    const ok = await h.request("/copilot/v1/embeddings", { model, input: "a" });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  });
});

Deno.test("embeddings: an alias stands for its target; scopes are checked on the target", async (t) => {
  await using h = await startHarness();
  await h.copilotAccount("emb");
  await setAlias(h.deps, "vectors", { target: "copilot/text-embedding-3-small" });
  await setAlias(h.deps, "coder", { target: "codex/gpt-5.5" });

  for (const path of ["/v1/embeddings", "/copilot/v1/embeddings"]) {
    await t.step(`${path}: the target model goes upstream and into usage`, async () => {
      const res = await h.request(path, {
        model: "vectors",
        input: "hi",
        encoding_format: "float",
      });
      assert.equal(res.status, 200);
      assert.equal((await res.json()).model, "text-embedding-3-small");
      assert.deepEqual(h.fakes.copilot.lastRequest(UPSTREAM)!.json, {
        model: "text-embedding-3-small",
        input: ["hi"],
      });
      assert.equal(h.usage.at(-1)!.model, "text-embedding-3-small");
    });
  }

  await t.step("an alias of another provider's model is refused before any call", async () => {
    const sent = h.fakes.copilot.requestsTo(UPSTREAM).length;
    const wide = await h.request("/v1/embeddings", { model: "coder", input: "x" });
    assert.equal(wide.status, 400);
    assert.equal((await wide.json()).error.code, "embeddings_unsupported");
    const native = await h.request("/copilot/v1/embeddings", { model: "coder", input: "x" });
    assert.equal(native.status, 400);
    assert.equal((await native.json()).error.code, "wrong_provider");
    assert.equal(h.fakes.copilot.requestsTo(UPSTREAM).length, sent);
  });

  await t.step("the alias grants nothing: a key limited to chat models is refused", async () => {
    h.key = testKey({ models: ["copilot/gpt-*", "vectors"] });
    const res = await h.request("/v1/embeddings", { model: "vectors", input: "x" });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.code, "model_not_allowed");
  });
});

Deno.test("embeddings: a 429 cools the model on that account and the next account answers", async () => {
  await using h = await startHarness();
  const a = await h.copilotAccount("a");
  const b = await h.copilotAccount("b");
  h.fakes.copilot.failWhen((req) =>
    req.path === UPSTREAM && bearer(req) === a.accessToken
      ? { status: 429, body: { error: { message: "Rate limited. Please wait 5 minutes." } } }
      : undefined
  );
  const res = await h.request("/v1/embeddings", { model: "text-embedding-3-small", input: "x" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-kleis-account"), b.account.id);
  await res.body?.cancel();
  assert.deepEqual(h.fakes.copilot.requestsTo(UPSTREAM).map(bearer), [
    a.accessToken,
    b.accessToken,
  ]);
  assert.equal(h.usage.at(-1)!.attempts, 2);
});

Deno.test("embeddings without a Copilot account: 503 no_account; a Codex model is still a 400", async () => {
  await using h = await startHarness();
  const res = await h.request("/v1/embeddings", { model: "text-embedding-3-small", input: "x" });
  assert.equal(res.status, 503);
  assert.equal((await res.json()).error.code, "no_account");
  const codex = await h.request("/v1/embeddings", { model: "gpt-5.5", input: "x" });
  assert.equal(codex.status, 400);
  const error = (await codex.json()).error;
  assert.equal(error.code, "embeddings_unsupported");
  assert.match(error.message, /^Codex \(ChatGPT\) has no embedding models/);
});

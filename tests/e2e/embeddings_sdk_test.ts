/**
 * Embeddings with the real `openai` package against a real Kleis process
 * (main.ts) and the Copilot fake: `client.embeddings.create` on
 * /copilot/v1 and /v1, string and array input, the SDK's default base64
 * (which it decodes) and explicit floats; a bad request; the tokens in the
 * usage API and in /metrics.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { fakeEmbedding } from "../fakes/copilot.ts";
import { startE2e } from "../support/e2e_setup.ts";
import { parseScrape } from "../metrics/scrape.ts";

function decode(embedding: unknown): number[] {
  assert.equal(typeof embedding, "string");
  const bytes = Uint8Array.from(atob(embedding as string), (c) => c.charCodeAt(0));
  return Array.from(new Float32Array(bytes.buffer));
}

Deno.test({
  name: "the openai package creates embeddings through a Kleis process",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const { fakes, kleis, secret, close } = await startE2e("embeddings e2e");
  try {
    // What the SDK sends and gets on the wire, to see its default base64 at work.
    const wire: { sent: Record<string, unknown>; got: { data: { embedding: unknown }[] } }[] = [];
    const copilot = new OpenAI({
      apiKey: secret,
      baseURL: `${kleis.url}/copilot/v1`,
      fetch: async (url: string | URL | Request, init?: RequestInit) => {
        const res = await fetch(url, init);
        wire.push({ sent: JSON.parse(String(init?.body)), got: await res.clone().json() });
        return res;
      },
    });
    const open = new OpenAI({ apiKey: secret, baseURL: `${kleis.url}/v1` });
    let promptTokens = 0;

    await t.step("a string on /copilot/v1: the SDK asks for base64 and decodes it", async () => {
      const r = await copilot.embeddings.create({
        model: "text-embedding-3-small",
        input: "hello world",
      });
      assert.equal(wire[0]!.sent.encoding_format, "base64");
      assert.equal(typeof wire[0]!.got.data[0]!.embedding, "string");
      const sent = fakes.copilot.lastRequest("/embeddings")!.json as Record<string, unknown>;
      assert.deepEqual(sent, { model: "text-embedding-3-small", input: ["hello world"] });
      assert.equal(r.object, "list");
      assert.equal(r.model, "text-embedding-3-small");
      assert.equal(r.data.length, 1);
      assert.deepEqual(r.data[0]!.embedding, fakeEmbedding("hello world", 1536));
      assert.equal(r.usage.prompt_tokens, 3);
      promptTokens += r.usage.prompt_tokens;
    });

    await t.step("an array on /v1 with dimensions, base64 and float alike", async () => {
      const input = ["first text", "second text"];
      for (const encoding_format of ["base64", "float"] as const) {
        const r = await open.embeddings.create({
          model: "copilot/text-embedding-3-small",
          input,
          dimensions: 256,
          encoding_format,
        });
        // Asked for explicitly, base64 is handed over as it came (the SDK decodes only its default).
        assert.deepEqual(
          r.data.map((
            d,
          ) => [d.index, encoding_format === "base64" ? decode(d.embedding) : d.embedding]),
          input.map((text, i) => [i, fakeEmbedding(text, 256)]),
        );
        promptTokens += r.usage.prompt_tokens;
      }
    });

    await t.step("/v1/models lists the embedding models", async () => {
      const ids: string[] = [];
      for await (const m of open.models.list()) ids.push(m.id);
      assert.ok(ids.includes("copilot/text-embedding-3-small"));
      assert.ok(ids.includes("gpt-5.5"));
    });

    await t.step("a chat model is a 400 the SDK reports with Kleis's message", async () => {
      const error = await open.embeddings.create({ model: "gpt-5.5", input: "x" }).catch((e) => e);
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.equal(error.code, "embeddings_unsupported");
      assert.match(error.message, /copilot\/text-embedding-3-small/);
    });

    await t.step("the usage API and /metrics count the prompt tokens as input", async () => {
      const admin = { authorization: `Bearer ${kleis.adminToken}` };
      let groups: { key: string; requests: number; inputTokens: number }[] = [];
      for (let i = 0; i < 200; i++) {
        const res = await fetch(`${kleis.url}/admin/usage?groupBy=endpoint`, { headers: admin });
        groups = (await res.json()).groups;
        const sum = groups.filter((g) => g.key.endsWith("/embeddings"))
          .reduce((n, g) => n + g.inputTokens, 0);
        if (sum === promptTokens) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      const byRoute = Object.fromEntries(groups.map((g) => [g.key, g]));
      assert.equal(byRoute["/copilot/v1/embeddings"]?.requests, 1);
      assert.equal(byRoute["/v1/embeddings"]?.requests, 3, "the refused request counts too");
      assert.equal(
        byRoute["/copilot/v1/embeddings"]!.inputTokens + byRoute["/v1/embeddings"]!.inputTokens,
        promptTokens,
      );

      const metrics = await fetch(`${kleis.url}/metrics`, { headers: admin });
      const scrape = parseScrape(await metrics.text());
      assert.equal(
        scrape.value("kleis_proxy_requests_total", {
          route: "/v1/embeddings",
          provider: "copilot",
          status: "200",
        }),
        2,
      );
      assert.equal(
        scrape.value("kleis_proxy_requests_total", {
          route: "/v1/embeddings",
          provider: "none",
          status: "400",
        }),
        1,
      );
      assert.equal(
        scrape.value("kleis_proxy_tokens_total", { provider: "copilot", kind: "input" }),
        promptTokens,
      );
    });
  } finally {
    await close();
  }
});

import assert from "node:assert/strict";
import { createApp } from "../../src/app.ts";
import { createApiKey, revokeApiKey } from "../../src/keys/service.ts";
import { refreshRegistry } from "../../src/jobs/registry_refresh.ts";
import { startFakeModelsDev } from "../fakes/models_dev.ts";
import { startFakeCopilot } from "../fakes/copilot.ts";
import { FakeWorld } from "../fakes/world.ts";
import { testDeps } from "../support/test_deps.ts";
import { addAccount, cacheModelsDev, copilotAt } from "./support.ts";

type Doc = Record<string, { models: Record<string, { provider?: { api: string } }> }>;

function closedPortUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}/api.json`;
}

Deno.test("GET /api.json", async (t) => {
  const modelsDev = await startFakeModelsDev();

  await t.step("answers from the bundled catalog within 1 s while models.dev hangs", async () => {
    modelsDev.setMode("hang");
    await using deps = await testDeps({ config: { modelsDevUrl: modelsDev.apiUrl } });
    await addAccount(deps, "codex");
    const app = createApp(deps);
    const started = performance.now();
    const res = await app.request("http://kleis.test/api.json");
    const elapsed = performance.now() - started;
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const doc = await res.json() as Doc;
    assert.ok(elapsed < 1000, `answered in ${elapsed.toFixed(0)} ms`);
    assert.ok(doc.openai && doc.anthropic && doc["github-copilot"], "bundled providers");
    assert.equal(doc.openai.models["gpt-5.5-pro"], undefined, "not models.dev's copy");
    assert.equal(doc.kleis!.models["gpt-5.5"]!.provider!.api, "http://kleis.test/openai/v1");
    // The background fetch it started is still hanging: closing the fake ends it.
    await modelsDev.close();
    await deps.runtime.settled();
  });

  // The fake is closed now; start another for the remaining steps.
  const live = await startFakeModelsDev();

  await t.step(
    "answers from the bundled catalog within 1 s when models.dev's port is closed",
    async () => {
      await using deps = await testDeps({ config: { modelsDevUrl: closedPortUrl() } });
      const started = performance.now();
      const res = await createApp(deps).request("http://kleis.test/api.json");
      const doc = await res.json() as Doc;
      assert.ok(performance.now() - started < 1000);
      assert.deepEqual(doc.kleis!.models, {});
      await deps.runtime.settled();
    },
  );

  await t.step(
    "serves models.dev once fetched, and the stale copy when a refresh fails",
    async () => {
      live.setMode("ok");
      await using deps = await testDeps({ config: { modelsDevUrl: live.apiUrl } });
      const app = createApp(deps);
      assert.equal((await refreshRegistry(deps)).modelsDev, "refreshed");
      const fresh = await (await app.request("/api.json")).json() as Doc;
      assert.ok(fresh.openai!.models["gpt-5.5-pro"], "models.dev's copy");

      live.setMode("error");
      deps.clock.advance(2 * 60 * 60_000);
      assert.equal((await refreshRegistry(deps)).modelsDev, "failed");
      const stale = await (await app.request("/api.json")).json() as Doc;
      assert.deepEqual(stale.openai, fresh.openai);
    },
  );

  await t.step("a start-up refresh skips a copy that is still fresh", async () => {
    live.setMode("ok");
    await using deps = await testDeps({ config: { modelsDevUrl: live.apiUrl } });
    await refreshRegistry(deps);
    live.requests = [];
    const result = await refreshRegistry(deps, { skipIfFresherThanMs: 30 * 60_000 });
    assert.equal(result.modelsDev, "fresh");
    assert.equal(live.requests.length, 0);
  });

  await t.step("uses KLEIS_PUBLIC_URL for the model routes when set", async () => {
    await using deps = await testDeps({
      config: { modelsDevUrl: closedPortUrl(), publicUrl: "https://kleis.example.com" },
    });
    await cacheModelsDev(deps);
    await addAccount(deps, "claude");
    const doc = await (await createApp(deps).request("http://127.0.0.1/api.json")).json() as Doc;
    assert.equal(
      doc.kleis!.models["anthropic/claude-sonnet-4-5"]!.provider!.api,
      "https://kleis.example.com/anthropic/v1",
    );
  });

  await live.close();
});

Deno.test("GET /api/:token/api.json", async (t) => {
  await using deps = await testDeps({ config: { modelsDevUrl: closedPortUrl() } });
  await cacheModelsDev(deps);
  await addAccount(deps, "codex");
  await addAccount(deps, "claude");
  const app = createApp(deps);

  await t.step("narrows the kleis provider to the key's providers and model globs", async () => {
    const { key } = await createApiKey(deps, {
      label: "claude sonnet only",
      providers: ["claude"],
      models: ["anthropic/claude-sonnet-*"],
    });
    const res = await app.request(`/api/${key.discoveryToken}/api.json`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "private, no-store");
    const doc = await res.json() as Doc;
    assert.deepEqual(Object.keys(doc.kleis!.models), ["anthropic/claude-sonnet-4-5"]);
    const everyone = await (await app.request("/api.json")).json() as Doc;
    assert.ok(Object.keys(everyone.kleis!.models).length > 5);
  });

  await t.step("a revoked key's discovery URL answers 404", async () => {
    const { key } = await createApiKey(deps, { label: "soon revoked" });
    assert.equal((await app.request(`/api/${key.discoveryToken}/api.json`)).status, 200);
    await revokeApiKey(deps, key.id);
    const res = await app.request(`/api/${key.discoveryToken}/api.json`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), {
      error: { code: "not_found", message: "This discovery URL was not found." },
    });
  });

  await t.step("an expired key's discovery URL answers 404", async () => {
    const { key } = await createApiKey(deps, {
      label: "short-lived",
      expiresAt: deps.now() + 60_000,
    });
    assert.equal((await app.request(`/api/${key.discoveryToken}/api.json`)).status, 200);
    deps.clock.advance(60_000);
    assert.equal((await app.request(`/api/${key.discoveryToken}/api.json`)).status, 404);
  });

  await t.step("an unknown or malformed token answers 404", async () => {
    for (const token of ["NoSuchToken0123456789abcdefghijk", "x", "..%2F..", "a".repeat(300)]) {
      const res = await app.request(`/api/${token}/api.json`);
      assert.equal(res.status, 404, token);
      await res.body?.cancel();
    }
  });
});

Deno.test("model list routes", async (t) => {
  const world = new FakeWorld();
  const copilot = await startFakeCopilot(world);
  await using deps = await testDeps({
    config: { modelsDevUrl: closedPortUrl(), ...copilotAt(copilot.url) },
  });
  await cacheModelsDev(deps);
  await addAccount(deps, "codex");
  await addAccount(deps, "claude");
  await addAccount(deps, "copilot", { accessToken: world.issueCopilotToken() });
  const app = createApp(deps);
  const { secret: all } = await createApiKey(deps, { label: "all" });
  const { secret: scoped, key: scopedKey } = await createApiKey(deps, {
    label: "codex 5.4 family",
    providers: ["codex"],
    models: ["gpt-5.4*"],
  });
  const get = async (path: string, secret: string, header = "authorization") => {
    const res = await app.request(path, {
      headers: { [header]: header === "authorization" ? `Bearer ${secret}` : secret },
    });
    return { status: res.status, body: await res.json() };
  };

  await t.step("/v1/models lists every model the key may use, ids as in /api.json", async () => {
    const { status, body } = await get("/v1/models", all);
    assert.equal(status, 200);
    assert.equal(body.object, "list");
    const ids = body.data.map((m: { id: string }) => m.id);
    assert.ok(ids.includes("gpt-5.5"));
    assert.ok(ids.includes("anthropic/claude-sonnet-4-5"));
    assert.ok(ids.includes("copilot/gpt-4.1"));
    const doc = await (await app.request("/api.json")).json() as Doc;
    // Then Copilot's embedding models, which /api.json leaves out (OpenCode only chats).
    const embeddings = ["copilot/text-embedding-3-small", "copilot/text-embedding-ada-002"];
    assert.deepEqual(ids.slice(-2), embeddings);
    assert.deepEqual(new Set(ids.slice(0, -2)), new Set(Object.keys(doc.kleis!.models)));
    assert.deepEqual(
      body.data.at(-1),
      { id: "copilot/text-embedding-ada-002", object: "model", created: 0, owned_by: "copilot" },
    );
    const first = body.data[0];
    assert.deepEqual(Object.keys(first).sort(), ["created", "id", "object", "owned_by"]);
    assert.equal(first.object, "model");
    assert.equal(first.created, Date.UTC(2026, 3, 23) / 1000); // gpt-5.5's release date
  });

  await t.step(
    "a scoped key sees exactly its models, in /v1/models and its discovery URL",
    async () => {
      const { body } = await get("/v1/models", scoped);
      assert.deepEqual(body.data.map((m: { id: string }) => m.id), ["gpt-5.4", "gpt-5.4-mini"]);
      const doc = await (await app.request(`/api/${scopedKey.discoveryToken}/api.json`))
        .json() as Doc;
      assert.deepEqual(Object.keys(doc.kleis!.models), ["gpt-5.4", "gpt-5.4-mini"]);
      assert.deepEqual((await get("/anthropic/v1/models", scoped, "x-api-key")).body.data, []);
      assert.deepEqual((await get("/copilot/v1/models", scoped)).body.data, []);
    },
  );

  await t.step("the proxy refuses the scoped key (403) what its lists leave out", async () => {
    const post = async (path: string, model: string) => {
      const res = await app.request(path, {
        method: "POST",
        headers: { authorization: `Bearer ${scoped}`, "content-type": "application/json" },
        body: JSON.stringify({ model, input: "hi", messages: [{ role: "user", content: "hi" }] }),
      });
      await res.body?.cancel();
      return res.status;
    };
    assert.equal(await post("/openai/v1/responses", "gpt-5.5"), 403);
    assert.equal(await post("/anthropic/v1/messages", "claude-sonnet-4-5"), 403);
    assert.equal(await post("/copilot/v1/chat/completions", "gpt-4.1"), 403);
  });

  await t.step("per-prefix lists carry the backend's own ids", async () => {
    const openai = (await get("/openai/v1/models", all)).body.data.map((m: { id: string }) => m.id);
    assert.deepEqual(openai, ["gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "gpt-5.3-codex", "gpt-5.2"]);
    const copilotIds = (await get("/copilot/v1/models", all)).body.data
      .map((m: { id: string }) => m.id);
    assert.ok(copilotIds.includes("gpt-4.1") && copilotIds.includes("claude-sonnet-4.5"));
    assert.ok(!copilotIds.includes("claude-opus-4.5"), "policy disabled");
  });

  await t.step("/anthropic/v1/models answers in Anthropic's list shape with paging", async () => {
    const { status, body } = await get("/anthropic/v1/models", all, "x-api-key");
    assert.equal(status, 200);
    assert.deepEqual(body, {
      data: [
        {
          type: "model",
          id: "claude-sonnet-4-5",
          display_name: "Claude Sonnet 4.5",
          created_at: "2025-09-29T00:00:00Z",
        },
        {
          type: "model",
          id: "claude-opus-4-5",
          display_name: "Claude Opus 4.5",
          created_at: "2025-11-24T00:00:00Z",
        },
        {
          type: "model",
          id: "claude-haiku-4-5",
          display_name: "Claude Haiku 4.5",
          created_at: "2025-10-15T00:00:00Z",
        },
      ],
      has_more: false,
      first_id: "claude-sonnet-4-5",
      last_id: "claude-haiku-4-5",
    });
    const page1 = (await get("/anthropic/v1/models?limit=2", all, "x-api-key")).body;
    assert.deepEqual(page1.data.map((m: { id: string }) => m.id), [
      "claude-sonnet-4-5",
      "claude-opus-4-5",
    ]);
    assert.equal(page1.has_more, true);
    const page2 = (await get(
      `/anthropic/v1/models?limit=2&after_id=${page1.last_id}`,
      all,
      "x-api-key",
    )).body;
    assert.deepEqual(page2.data.map((m: { id: string }) => m.id), ["claude-haiku-4-5"]);
    assert.equal(page2.has_more, false);
    const back = (await get(
      "/anthropic/v1/models?limit=1&before_id=claude-haiku-4-5",
      all,
      "x-api-key",
    )).body;
    assert.deepEqual(back.data.map((m: { id: string }) => m.id), ["claude-opus-4-5"]);
    assert.equal(back.has_more, true);
    const bad = await get("/anthropic/v1/models?limit=0", all, "x-api-key");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.type, "error");
  });

  await t.step("without a key the lists answer 401", async () => {
    const res = await app.request("/v1/models");
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });

  await deps.runtime.settled();
  await copilot.close();
});

import assert from "node:assert/strict";
import { type KeyScope, modelsForKey, registryDocument } from "../../src/registry/service.ts";
import { KV_RECHECK_MS } from "../../src/registry/copilot_models.ts";
import { FakeWorld } from "../fakes/world.ts";
import { startFakeCopilot } from "../fakes/copilot.ts";
import { testDeps } from "../support/test_deps.ts";
import { addAccount, cacheModelsDev, copilotAt } from "./support.ts";

const BASE = "https://kleis.example.com";
const ALL: KeyScope = {};
const offline = () => Promise.reject(new TypeError("offline"));

interface Doc {
  [provider: string]: {
    models: Record<string, {
      id: string;
      limit: { context: number; output: number };
      cost: Record<string, number>;
      provider: { npm: string; api: string };
      release_date: string;
    }>;
  };
}

async function document(deps: Parameters<typeof registryDocument>[0], key?: KeyScope) {
  return JSON.parse(
    await registryDocument(deps, key ? { baseUrl: BASE, key } : { baseUrl: BASE }),
  ) as Doc;
}

Deno.test("registry service", async (t) => {
  const world = new FakeWorld();
  const copilot = await startFakeCopilot(world);

  await t.step("with no account, the kleis provider lists no model", async () => {
    await using deps = await testDeps({ fetch: offline });
    await cacheModelsDev(deps);
    const doc = await document(deps);
    assert.deepEqual(doc.kleis?.models, {});
    assert.ok(doc.openai, "the models.dev registry is served alongside");
    assert.deepEqual(await modelsForKey(deps, ALL), []);
  });

  await t.step("only providers with an enabled account appear", async () => {
    await using deps = await testDeps({ fetch: offline });
    await cacheModelsDev(deps);
    await addAccount(deps, "codex");
    await addAccount(deps, "claude", { enabled: false });
    const models = await modelsForKey(deps, ALL);
    assert.deepEqual(new Set(models.map((m) => m.provider)), new Set(["codex"]));
  });

  await t.step("Codex offers the subscription models only, with plain ids", async () => {
    await using deps = await testDeps({ fetch: offline });
    await cacheModelsDev(deps);
    await addAccount(deps, "codex");
    const ids = (await modelsForKey(deps, ALL)).map((m) => m.listedId);
    // From the fake's openai list: -pro and gpt-4o are not subscription models.
    assert.deepEqual(ids, ["gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "gpt-5.3-codex", "gpt-5.2"]);
  });

  await t.step("every kleis model has limits, zero cost and its own provider route", async () => {
    await using deps = await testDeps({ fetch: offline });
    await cacheModelsDev(deps);
    await addAccount(deps, "codex");
    await addAccount(deps, "claude");
    const doc = await document(deps);
    const models = Object.entries(doc.kleis!.models);
    assert.ok(models.length >= 8);
    for (const [listed, model] of models) {
      assert.equal(model.id, listed);
      assert.ok(model.limit.context > 0 && model.limit.output > 0, listed);
      assert.ok(Object.values(model.cost).every((c) => c === 0), listed);
      assert.equal(typeof model.release_date, "string");
    }
    assert.deepEqual(doc.kleis!.models["gpt-5.5"]!.provider, {
      npm: "@ai-sdk/openai",
      api: `${BASE}/openai/v1`,
    });
    assert.deepEqual(doc.kleis!.models["gpt-5.5"]!.limit, {
      context: 400000,
      output: 128000,
      input: 272000,
    });
    assert.deepEqual(doc.kleis!.models["anthropic/claude-sonnet-4-5"]!.provider, {
      npm: "@ai-sdk/anthropic",
      api: `${BASE}/anthropic/v1`,
    });
  });

  await t.step(
    "Copilot models come from the account's live list, merged with models.dev",
    async () => {
      await using deps = await testDeps({ config: copilotAt(copilot.url) });
      await cacheModelsDev(deps);
      await addAccount(deps, "copilot", { accessToken: world.issueCopilotToken() });
      const doc = await document(deps);
      const models = doc.kleis!.models;
      // The fake lists 8 models, one with policy "disabled".
      assert.deepEqual(Object.keys(models).sort(), [
        "copilot/claude-haiku-4.5",
        "copilot/claude-sonnet-4.5",
        "copilot/gpt-4.1",
        "copilot/gpt-4o",
        "copilot/gpt-5-mini",
        "copilot/gpt-5.2",
        "copilot/gpt-5.2-codex",
      ]);
      const api = `${BASE}/copilot/v1`;
      assert.deepEqual(models["copilot/gpt-4.1"]!.provider, {
        npm: "@ai-sdk/openai-compatible",
        api,
      });
      assert.deepEqual(models["copilot/gpt-5.2-codex"]!.provider, { npm: "@ai-sdk/openai", api });
      assert.deepEqual(models["copilot/claude-sonnet-4.5"]!.provider, {
        npm: "@ai-sdk/anthropic",
        api,
      });
      // Limits are the live ones (the fake says 200000 where models.dev says 128000).
      assert.equal(models["copilot/claude-sonnet-4.5"]!.limit.context, 200000);
      // Metadata models.dev knows is kept (release date of a model the live list lacks one for).
      assert.equal(models["copilot/gpt-4.1"]!.release_date, "2025-04-14");
    },
  );

  await t.step("the live Copilot list is cached per account, not fetched per request", async () => {
    await using deps = await testDeps({ config: copilotAt(copilot.url) });
    await cacheModelsDev(deps);
    await addAccount(deps, "copilot", { accessToken: world.issueCopilotToken() });
    copilot.requests = [];
    await modelsForKey(deps, ALL);
    await modelsForKey(deps, ALL);
    assert.equal(copilot.requestsTo("/models").length, 1);
    deps.clock.advance(2 * 60 * 60_000); // past the freshness window: served stale, refreshed behind
    await modelsForKey(deps, ALL);
    await deps.runtime.settled();
    assert.equal(copilot.requestsTo("/models").length, 2);
  });

  await t.step(
    "without a live list, Copilot falls back to models.dev's github-copilot",
    async () => {
      await using deps = await testDeps({ config: copilotAt(copilot.url) });
      await cacheModelsDev(deps);
      await addAccount(deps, "copilot", { accessToken: "gho_not_a_token_the_fake_knows" });
      const ids = (await modelsForKey(deps, ALL)).map((m) => m.listedId).sort();
      assert.deepEqual(ids, [
        "copilot/claude-sonnet-4.5",
        "copilot/gpt-4.1",
        "copilot/gpt-5.2-codex",
      ]);
      assert.ok(deps.logLines.some((l) => l.includes("Could not fetch the Copilot model list")));
      assert.ok(!deps.logLines.some((l) => l.includes("gho_not_a_token")), "no token in the log");
    },
  );

  await t.step("a key narrows to its providers and model globs", async () => {
    await using deps = await testDeps({ fetch: offline });
    await cacheModelsDev(deps);
    await addAccount(deps, "codex");
    await addAccount(deps, "claude");
    const key: KeyScope = { providers: ["claude"], models: ["anthropic/claude-s*"] };
    assert.deepEqual((await modelsForKey(deps, key)).map((m) => m.listedId), [
      "anthropic/claude-sonnet-4-5",
    ]);
    const plain: KeyScope = { models: ["gpt-5.4*", "claude-haiku-*"] };
    assert.deepEqual((await modelsForKey(deps, plain)).map((m) => m.listedId), [
      "gpt-5.4",
      "gpt-5.4-mini",
      "anthropic/claude-haiku-4-5",
    ]);
    const doc = await document(deps, key);
    assert.deepEqual(Object.keys(doc.kleis!.models), ["anthropic/claude-sonnet-4-5"]);
    assert.ok(doc.anthropic && doc.openai, "the rest of the registry is untouched");
  });

  await t.step("a pinned account narrows its provider to what that account offers", async () => {
    await using deps = await testDeps({ config: copilotAt(copilot.url) });
    await cacheModelsDev(deps);
    const first = await addAccount(deps, "copilot", { accessToken: world.issueCopilotToken() });
    const second = await addAccount(deps, "copilot", { accessToken: world.issueCopilotToken() });
    // The first account's live list is cached smaller (its plan offers two models).
    await modelsForKey(deps, ALL);
    const { keys } = await import("../../src/kv/keys.ts");
    const entry = await deps.kv.get<{ fetchedAt: number; models: { id: string }[] }>(
      keys.copilotModelsCache(first.id),
    );
    const small = entry.value!.models.filter((m) => m.id === "gpt-4.1" || m.id === "gpt-5.2");
    await deps.kv.set(keys.copilotModelsCache(first.id), { ...entry.value!, models: small });
    // Written behind this instance's back (as another instance would): seen after the re-check.
    deps.clock.advance(KV_RECHECK_MS);

    const pinnedFirst = await modelsForKey(deps, { accounts: { copilot: first.id } });
    assert.deepEqual(pinnedFirst.map((m) => m.id), ["gpt-4.1", "gpt-5.2"]);
    const pinnedSecond = await modelsForKey(deps, { accounts: { copilot: second.id } });
    assert.equal(pinnedSecond.length, 7);
    const unpinned = await modelsForKey(deps, ALL);
    assert.equal(unpinned.length, 7, "the union over accounts");
  });

  await t.step("a key pinned to a disabled account sees none of that provider", async () => {
    await using deps = await testDeps({ fetch: offline });
    await cacheModelsDev(deps);
    const off = await addAccount(deps, "codex", { enabled: false });
    await addAccount(deps, "codex");
    assert.deepEqual(await modelsForKey(deps, { accounts: { codex: off.id } }), []);
  });

  await t.step("with no cached copy, the bundled catalog answers and a fetch starts", async () => {
    let fetched = 0;
    await using deps = await testDeps({
      fetch: () => {
        fetched++;
        return Promise.reject(new TypeError("unreachable"));
      },
    });
    await addAccount(deps, "claude");
    const doc = await document(deps);
    assert.ok(doc["github-copilot"] && doc.anthropic && doc.openai);
    assert.ok(doc.kleis!.models["anthropic/claude-opus-4-5"]);
    await deps.runtime.settled();
    assert.equal(fetched, 1);
    await document(deps); // a second request within a minute does not hammer models.dev
    await deps.runtime.settled();
    assert.equal(fetched, 1);
  });

  await copilot.close();
});

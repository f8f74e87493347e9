/**
 * Which embedding models Kleis offers: Copilot's live lists (only items
 * marked `capabilities.type: "embeddings"`, disabled ones left out), a
 * fallback for accounts without a list, key scopes and pinned accounts, and
 * the same array while nothing changes.
 */
import assert from "node:assert/strict";
import { keys } from "../../src/kv/keys.ts";
import {
  copilotEmbeddingModels,
  embeddingModelsForKey,
  FALLBACK_MODELS,
} from "../../src/registry/embedding_models.ts";
import { parseCopilotEmbeddingModels } from "../../src/providers/copilot/models.ts";
import { testDeps } from "../support/test_deps.ts";
import { addAccount } from "./support.ts";

Deno.test("parseCopilotEmbeddingModels() keeps enabled embedding items only", () => {
  assert.deepEqual(
    parseCopilotEmbeddingModels({
      data: [
        { id: "gpt-4.1", capabilities: { type: "chat" } },
        { id: "text-embedding-3-small", name: "Small", capabilities: { type: "embeddings" } },
        {
          id: "text-embedding-off",
          capabilities: { type: "embeddings" },
          policy: { state: "disabled" },
        },
        { id: "", capabilities: { type: "embeddings" } },
        { id: "no-name", capabilities: { type: "embeddings" } },
      ],
    }),
    [{ id: "text-embedding-3-small", name: "Small" }, { id: "no-name", name: "no-name" }],
  );
  assert.deepEqual(parseCopilotEmbeddingModels({}), []);
});

Deno.test("embedding offers: live lists, the fallback, scopes and pins", async (t) => {
  await using deps = await testDeps();
  const store = (accountId: string, embeddings?: { id: string; name: string }[]) =>
    deps.kv.set(keys.copilotModelsCache(accountId), {
      fetchedAt: deps.now(),
      models: [],
      ...(embeddings ? { embeddings } : {}),
    });

  await t.step("no Copilot account: undefined, and nothing for a key", async () => {
    assert.equal(await copilotEmbeddingModels(deps), undefined);
    assert.deepEqual(await embeddingModelsForKey(deps, {}), []);
  });

  const a = await addAccount(deps, "copilot");
  const b = await addAccount(deps, "copilot");
  await store(a.id, [{ id: "text-embedding-3-small", name: "Small" }]);
  await store(b.id, [{ id: "text-embedding-3-large", name: "Large" }]);

  await t.step("the union of the accounts' lists, listed with the copilot/ prefix", async () => {
    const all = await copilotEmbeddingModels(deps);
    assert.deepEqual(all?.map((m) => m.listedId), [
      "copilot/text-embedding-3-small",
      "copilot/text-embedding-3-large",
    ]);
    assert.equal(await copilotEmbeddingModels(deps), all, "the same array while nothing changes");
  });

  await t.step("a pinned account offers its own list only", async () => {
    const pinned = await embeddingModelsForKey(deps, { accounts: { copilot: b.id } });
    assert.deepEqual(pinned.map((m) => m.id), ["text-embedding-3-large"]);
  });

  await t.step("key scopes narrow it", async () => {
    assert.deepEqual(await embeddingModelsForKey(deps, { providers: ["codex"] }), []);
    const key = { models: ["copilot/*-small"] };
    const narrowed = await embeddingModelsForKey(deps, key);
    assert.deepEqual(narrowed.map((m) => m.id), ["text-embedding-3-small"]);
    assert.equal(await embeddingModelsForKey(deps, key), narrowed);
  });

  await t.step("a list stored before embeddings were kept counts as the fallback", async () => {
    await store(b.id);
    deps.clock.advance(2_000);
    const all = await copilotEmbeddingModels(deps, b.id);
    assert.deepEqual(all?.map((m) => m.id), FALLBACK_MODELS.map((m) => m.id));
  });
});

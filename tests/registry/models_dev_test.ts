import assert from "node:assert/strict";
import { keys } from "../../src/kv/keys.ts";
import {
  CHUNK_BYTES,
  loadRegistry,
  readCachePointer,
  refreshModelsDev,
  storeRegistry,
  validateRegistry,
} from "../../src/registry/models_dev.ts";
import type { ModelsDevRegistry } from "../../src/registry/types.ts";
import { modelsDevRegistry } from "../fakes/models_dev.ts";
import { testDeps } from "../support/test_deps.ts";

/** A registry the size of the real one (~1.5 MB), with poorly compressible model names. */
function bigRegistry(): ModelsDevRegistry {
  const registry = modelsDevRegistry() as unknown as ModelsDevRegistry;
  for (let p = 0; p < 60; p++) {
    const models: ModelsDevRegistry[string]["models"] = {};
    for (let m = 0; m < 80; m++) {
      const id = `model-${p}-${m}-${crypto.randomUUID()}`;
      models[id] = {
        id,
        name: `Model ${crypto.randomUUID()}`,
        release_date: "2025-01-01",
        limit: { context: 128000 + m, output: 8192 + p },
        modalities: { input: ["text"], output: ["text"] },
      };
    }
    registry[`provider-${p}`] = { id: `provider-${p}`, name: `P${p}`, env: [], models };
  }
  return registry;
}

function jsonFetch(body: unknown, status = 200): typeof fetch {
  return () =>
    Promise.resolve(
      new Response(typeof body === "string" ? body : JSON.stringify(body), { status }),
    );
}

async function chunkVersions(kv: Deno.Kv): Promise<Set<unknown>> {
  const versions = new Set<unknown>();
  for await (const e of kv.list({ prefix: keys.modelsDevChunksPrefix() })) versions.add(e.key[1]);
  return versions;
}

Deno.test("models.dev cache", async (t) => {
  await t.step("a ~1.5 MB registry round-trips through KV in chunks under 64 KiB", async () => {
    await using deps = await testDeps();
    const registry = bigRegistry();
    const json = JSON.stringify(registry);
    assert.ok(json.length > 1_000_000, `registry is ${json.length} bytes`);
    const pointer = await storeRegistry(deps, registry, deps.now());
    assert.ok(pointer.chunks > 1, `stored in ${pointer.chunks} chunks`);
    for await (const e of deps.kv.list<Uint8Array>({ prefix: keys.modelsDevChunksPrefix() })) {
      assert.ok(e.value.length <= CHUNK_BYTES);
    }
    const loaded = await loadRegistry(deps.kv, pointer);
    assert.ok(loaded);
    assert.equal(loaded.text, json);
    assert.deepEqual(loaded.registry, registry);
  });

  await t.step("a new copy replaces the old one and sweeps its chunks", async () => {
    await using deps = await testDeps();
    const first = await storeRegistry(deps, validateRegistry(modelsDevRegistry()), deps.now());
    const second = await storeRegistry(deps, bigRegistry(), deps.now());
    assert.notEqual(first.version, second.version);
    assert.deepEqual(await chunkVersions(deps.kv), new Set([second.version]));
    // A reader still holding the old pointer finds its chunks gone and must re-read.
    assert.equal(await loadRegistry(deps.kv, first), undefined);
  });

  await t.step(
    "orphan chunks of a refresh that died before its pointer swap are swept",
    async () => {
      await using deps = await testDeps();
      await deps.kv.set(keys.modelsDevChunk("dead-version", 0), new Uint8Array([1, 2, 3]));
      const pointer = await storeRegistry(deps, validateRegistry(modelsDevRegistry()), deps.now());
      assert.deepEqual(await chunkVersions(deps.kv), new Set([pointer.version]));
    },
  );

  await t.step("a damaged chunk is detected by the checksum, not served", async () => {
    await using deps = await testDeps();
    const pointer = await storeRegistry(deps, validateRegistry(modelsDevRegistry()), deps.now());
    const key = keys.modelsDevChunk(pointer.version, 0);
    const chunk = (await deps.kv.get<Uint8Array>(key)).value!;
    chunk[chunk.length - 1] = chunk.at(-1)! ^ 0xff;
    await deps.kv.set(key, chunk);
    assert.equal(await loadRegistry(deps.kv, pointer), undefined);
  });

  await t.step(
    "refreshModelsDev() stores what models.dev answers and records success",
    async () => {
      await using deps = await testDeps({ fetch: jsonFetch(modelsDevRegistry()) });
      const pointer = await refreshModelsDev(deps);
      assert.equal(pointer.providers, 3);
      assert.equal(pointer.fetchedAt, deps.now());
      const status = (await deps.kv.get<{ lastSuccessAt?: number }>(keys.modelsDevStatus())).value;
      assert.equal(status?.lastSuccessAt, deps.now());
    },
  );

  await t.step("refreshModelsDev() strips a `kleis` entry models.dev might carry", async () => {
    const body = {
      ...modelsDevRegistry(),
      kleis: { id: "kleis", name: "Other", env: [], models: {} },
    };
    await using deps = await testDeps({ fetch: jsonFetch(body) });
    const pointer = await refreshModelsDev(deps);
    const loaded = await loadRegistry(deps.kv, pointer);
    assert.equal(loaded?.registry.kleis, undefined);
  });

  for (
    const [what, fetcher] of [
      ["a 503", jsonFetch("Service Unavailable", 503)],
      ["invalid JSON", jsonFetch("{not json")],
      ["a JSON array", jsonFetch([1, 2])],
      ["a provider without models", jsonFetch({ openai: { id: "openai" } })],
      ["a network error", () => Promise.reject(new TypeError("connection refused"))],
    ] as const
  ) {
    await t.step(`refreshModelsDev() keeps the stale copy on ${what}`, async () => {
      let failing = false;
      const good = jsonFetch(modelsDevRegistry());
      await using deps = await testDeps({
        fetch: (input, init) => failing ? fetcher(input, init) : good(input, init),
      });
      const before = await refreshModelsDev(deps);
      failing = true;
      deps.clock.advance(60_000);
      await assert.rejects(refreshModelsDev(deps));
      assert.deepEqual((await readCachePointer(deps.kv)).value, before);
      const status = (await deps.kv.get<{ lastError?: string; lastSuccessAt?: number }>(
        keys.modelsDevStatus(),
      )).value;
      assert.ok(status?.lastError);
      assert.equal(status?.lastSuccessAt, before.fetchedAt);
      assert.ok(deps.logLines.some((l) => l.includes("cached copy stays")));
    });
  }

  await t.step(
    "refreshModelsDev() gives up on a hanging models.dev after its timeout",
    async () => {
      const hang: typeof fetch = (_input, init) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        });
      await using deps = await testDeps({ fetch: hang });
      const started = Date.now();
      await assert.rejects(refreshModelsDev(deps, { timeoutMs: 100 }));
      assert.ok(Date.now() - started < 2_000);
    },
  );
});

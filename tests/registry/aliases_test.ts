/**
 * Model aliases: the suffix and target rules, the admin API (validation,
 * conflicts, audit, nothing written on bad input), the listing in
 * /v1/models and /api.json, and how soon another instance sees a change.
 */
import assert from "node:assert/strict";
import { createApp } from "../../src/app.ts";
import { createApiKey } from "../../src/keys/service.ts";
import { listAudit } from "../../src/audit.ts";
import { splitEffortSuffix } from "../../src/registry/effort_suffix.ts";
import { matchOffer } from "../../src/registry/alias_offers.ts";
import { parseAliasTarget, setAlias } from "../../src/registry/alias_service.ts";
import { ALIAS_CACHE_TTL_MS, cachedAliases } from "../../src/registry/aliases.ts";
import type { OfferedModel } from "../../src/registry/service.ts";
import { testDeps } from "../support/test_deps.ts";
import { twoInstances } from "../support/two_instances.ts";
import { adminCall } from "../keys/helpers.ts";
import { addAccount } from "./support.ts";

Deno.test("effort suffixes split by the base model's family", () => {
  const cases: [string, [string, string, string] | undefined][] = [
    ["gpt-5.5-high", ["gpt-5.5", "high", "openai"]],
    ["gpt-5-mini-minimal", ["gpt-5-mini", "minimal", "openai"]],
    ["gpt-5.2-codex-xhigh", ["gpt-5.2-codex", "xhigh", "openai"]],
    ["o4-mini-low", ["o4-mini", "low", "openai"]],
    ["claude-sonnet-4-5-thinking", ["claude-sonnet-4-5", "medium", "claude"]],
    ["claude-opus-4-5-thinking-high", ["claude-opus-4-5", "high", "claude"]],
    ["claude-haiku-4.5-thinking-low", ["claude-haiku-4.5", "low", "claude"]],
    // Claude models take thinking, not OpenAI levels; OpenAI models take no -thinking.
    ["claude-sonnet-4-5-high", undefined],
    ["gpt-5.5-thinking", undefined],
    ["gpt-5.5", undefined],
    ["-high", undefined],
  ];
  for (const [id, expected] of cases) {
    const split = splitEffortSuffix(id);
    assert.deepEqual(split && [split.base, split.effort, split.family], expected, id);
  }
});

Deno.test("a real model id wins over a suffix reading of it", () => {
  const offer = (id: string): OfferedModel => ({
    provider: "copilot",
    id,
    listedId: `copilot/${id}`,
    npm: "@ai-sdk/openai",
    facts: { reasoning: true } as OfferedModel["facts"],
  });
  const offers = [offer("gpt-x"), offer("gpt-x-high")];
  assert.deepEqual(matchOffer(offers, "copilot", "gpt-x-high")?.effort, undefined);
  assert.equal(matchOffer(offers, "copilot", "gpt-x-low")?.effort, "low");
  assert.equal(matchOffer(offers, "copilot", "gpt-x-low")?.model, "gpt-x");
  assert.equal(matchOffer(offers, "codex", "gpt-x-low"), undefined);
});

Deno.test("alias targets name a provider and a model", () => {
  assert.deepEqual(parseAliasTarget("copilot/gpt-5-mini"), {
    provider: "copilot",
    model: "gpt-5-mini",
  });
  assert.deepEqual(parseAliasTarget("github-copilot/gpt-4.1"), {
    provider: "copilot",
    model: "gpt-4.1",
  });
  assert.deepEqual(parseAliasTarget("anthropic/claude-sonnet-4-5-thinking"), {
    provider: "claude",
    model: "claude-sonnet-4-5-thinking",
  });
  assert.deepEqual(parseAliasTarget("openai/gpt-5.5"), { provider: "codex", model: "gpt-5.5" });
  for (const bad of ["gpt-5-mini", "mistral/large", "copilot/", "copilot/a b", "codex/x/y"]) {
    assert.throws(() => parseAliasTarget(bad), /Invalid "target"/, bad);
  }
});

Deno.test("the alias admin API", async (t) => {
  await using deps = await testDeps();
  await addAccount(deps, "codex");
  await addAccount(deps, "claude");
  const app = createApp(deps);
  const call = (method: string, path: string, body?: unknown) =>
    adminCall(app, deps, method, path, body);
  const stored = async () => (await call("GET", "/admin/aliases")).json.aliases as unknown[];

  await t.step("PUT creates (201), GET lists and reads, no-store", async () => {
    const res = await call("PUT", "/admin/aliases/deep", { target: "codex/gpt-5.5-high" });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    assert.equal(res.headers.get("cache-control"), "no-store");
    const alias = res.json.alias as Record<string, unknown>;
    assert.deepEqual(
      { ...alias, createdAt: 0, updatedAt: 0 },
      {
        name: "deep",
        target: "codex/gpt-5.5-high",
        provider: "codex",
        model: "gpt-5.5-high",
        available: true,
        createdAt: 0,
        updatedAt: 0,
      },
    );
    assert.equal(alias.createdAt, deps.now());
    const one = await call("GET", "/admin/aliases/deep");
    assert.deepEqual(one.json.alias, alias);
    assert.deepEqual(await stored(), [alias]);
  });

  await t.step("PUT again replaces (200) and keeps createdAt", async () => {
    const created = deps.now();
    deps.clock.advance(5_000);
    const res = await call("PUT", "/admin/aliases/deep", { target: "openai/gpt-5.4" });
    assert.equal(res.status, 200);
    const alias = res.json.alias as Record<string, unknown>;
    assert.equal(alias.target, "codex/gpt-5.4");
    assert.equal(alias.createdAt, created);
    assert.equal(alias.updatedAt, deps.now());
  });

  await t.step("a target no account serves is kept, shown as not available", async () => {
    const res = await call("PUT", "/admin/aliases/fast", { target: "copilot/gpt-5-mini" });
    assert.equal(res.status, 201);
    assert.equal((res.json.alias as Record<string, unknown>).available, false);
  });

  await t.step("a rename: named like a model only another provider serves", async () => {
    // No Copilot account: "gpt-4.1" is nobody's model here, so it may name Codex's.
    const res = await call("PUT", "/admin/aliases/gpt-4.1", { target: "codex/gpt-5.5" });
    assert.equal(res.status, 201, JSON.stringify(res.json));
  });

  await t.step("bad input: the documented error, nothing written", async () => {
    const before = await stored();
    const cases: [string, string, unknown, number, string, RegExp][] = [
      ["PUT", "/admin/aliases/-dash", { target: "codex/gpt-5.5" }, 400, "invalid_request", /name/],
      [
        "PUT",
        `/admin/aliases/${"a".repeat(65)}`,
        { target: "codex/gpt-5.5" },
        400,
        "invalid_request",
        /name/,
      ],
      ["PUT", "/admin/aliases/x", { target: "gpt-5.5" }, 400, "invalid_request", /target/],
      ["PUT", "/admin/aliases/x", { target: "mistral/large" }, 400, "invalid_request", /target/],
      ["PUT", "/admin/aliases/x", { target: "copilot/" }, 400, "invalid_request", /target/],
      ["PUT", "/admin/aliases/x", {}, 400, "invalid_request", /target/],
      ["PUT", "/admin/aliases/x", { target: 5 }, 400, "invalid_request", /target/],
      [
        "PUT",
        "/admin/aliases/x",
        { target: "codex/gpt-5.5", extra: 1 },
        400,
        "invalid_request",
        /extra/,
      ],
      [
        "PUT",
        "/admin/aliases/gpt-5.5",
        { target: "copilot/gpt-4.1" },
        409,
        "alias_conflict",
        /gpt-5\.5/,
      ],
      [
        "PUT",
        "/admin/aliases/claude-sonnet-4-5",
        { target: "copilot/claude-sonnet-4.5" },
        409,
        "alias_conflict",
        /anthropic\/claude-sonnet-4-5/,
      ],
      ["DELETE", "/admin/aliases/nope", undefined, 404, "not_found", /nope/],
      ["GET", "/admin/aliases/nope", undefined, 404, "not_found", /nope/],
    ];
    for (const [method, path, body, status, code, message] of cases) {
      const res = await call(method, path, body);
      assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.json)}`);
      const error = res.json.error as { code: string; message: string };
      assert.equal(error.code, code, path);
      assert.match(error.message, message, path);
    }
    const notJson = await app.request("/admin/aliases/x", {
      method: "PUT",
      headers: { authorization: `Bearer ${deps.config.adminToken}` },
      body: "{target",
    });
    assert.equal(notJson.status, 400);
    assert.equal((await notJson.json()).error.code, "invalid_json");
    assert.deepEqual(await stored(), before);
  });

  await t.step("a wrong admin token: 401, nothing written", async () => {
    const res = await app.request("/admin/aliases/x", {
      method: "PUT",
      headers: {
        authorization: "Bearer wrong-token-0123456789",
        "content-type": "application/json",
      },
      body: JSON.stringify({ target: "codex/gpt-5.5" }),
    });
    assert.equal(res.status, 401);
    assert.equal((await stored()).length, 3);
  });

  await t.step("DELETE removes; every change is in the audit log", async () => {
    const res = await call("DELETE", "/admin/aliases/gpt-4.1");
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { deleted: true, name: "gpt-4.1" });
    assert.equal((await call("GET", "/admin/aliases/gpt-4.1")).status, 404);
    const { entries } = await listAudit(deps.kv, { limit: 10 });
    const aliasEntries = entries.filter((e) => e.action.startsWith("alias."));
    assert.deepEqual(
      aliasEntries.map((e) => [e.action, e.target, e.details?.target]),
      [
        ["alias.deleted", "gpt-4.1", "codex/gpt-5.5"],
        ["alias.set", "gpt-4.1", "codex/gpt-5.5"],
        ["alias.set", "fast", "copilot/gpt-5-mini"],
        ["alias.set", "deep", "codex/gpt-5.4"],
        ["alias.set", "deep", "codex/gpt-5.5-high"],
      ],
    );
  });
});

Deno.test("aliases in /v1/models and /api.json, with the target's facts and the key's scopes", async (t) => {
  await using deps = await testDeps();
  await addAccount(deps, "codex");
  await addAccount(deps, "claude");
  const app = createApp(deps);
  await setAlias(deps, "deep", { target: "codex/gpt-5.5-high" });
  await setAlias(deps, "sonnet", { target: "claude/claude-sonnet-4-5" });
  await setAlias(deps, "fast", { target: "copilot/gpt-5-mini" }); // no Copilot account
  const all = await createApiKey(deps, { label: "all" });
  const codexOnly = await createApiKey(deps, { label: "codex", models: ["gpt-5.5"] });
  const models = async (secret: string) => {
    const res = await app.request("/v1/models", { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(res.status, 200);
    return ((await res.json()).data as { id: string; owned_by: string }[]);
  };

  await t.step("/v1/models lists an alias when the key may use its target", async () => {
    const ids = (await models(all.secret)).map((m) => m.id);
    assert.ok(ids.includes("deep") && ids.includes("sonnet"), ids.join());
    assert.ok(!ids.includes("fast"), "no account serves the target");
    assert.equal(ids.at(-2), "deep", "aliases follow the models, by name");
    const narrowed = (await models(codexOnly.secret)).map((m) => m.id);
    assert.deepEqual(narrowed, ["gpt-5.5", "deep"]);
  });

  await t.step("the provider routes list backend ids only", async () => {
    const res = await app.request("/openai/v1/models", {
      headers: { authorization: `Bearer ${all.secret}` },
    });
    assert.equal(res.status, 200);
    const ids = ((await res.json()).data as { id: string }[]).map((m) => m.id);
    assert.ok(ids.includes("gpt-5.5"), ids.join());
    assert.ok(!ids.includes("deep"), ids.join());
  });

  await t.step("/api.json: the target's limits, costs and route, under the alias", async () => {
    const doc = await (await app.request("http://kleis.test/api.json")).json();
    const kleis = doc.kleis.models;
    const deep = kleis.deep;
    const target = kleis["gpt-5.5"];
    assert.equal(deep.id, "deep");
    assert.deepEqual(deep.limit, target.limit);
    assert.deepEqual(deep.cost, target.cost);
    assert.equal(deep.reasoning, true);
    assert.deepEqual(deep.provider, target.provider);
    assert.match(deep.name, /^deep \(/);
    assert.deepEqual(kleis.sonnet.provider, kleis["anthropic/claude-sonnet-4-5"].provider);
    assert.equal(kleis.fast, undefined);
    assert.equal(doc["kleis-chat"].models.deep.provider.api, "http://kleis.test/v1");
  });

  await t.step("a key's discovery document lists only its aliases", async () => {
    const url = new URL(codexOnly.key.discoveryToken, "http://kleis.test/api/");
    const doc = await (await app.request(`${url}/api.json`)).json();
    assert.deepEqual(Object.keys(doc.kleis.models).sort(), ["deep", "gpt-5.5"]);
  });
});

Deno.test("another instance sees an alias change within the cache bound", async () => {
  await using pair = await twoInstances();
  const { a, b } = pair;
  assert.equal((await cachedAliases(b)).size, 0);
  await setAlias(a, "fast", { target: "codex/gpt-5.5" });
  assert.equal((await cachedAliases(a)).get("fast")?.model, "gpt-5.5", "at once where written");
  a.clock.advance(ALIAS_CACHE_TTL_MS - 1);
  assert.equal((await cachedAliases(b)).size, 0, "b's copy is still within its bound");
  a.clock.advance(1);
  assert.equal((await cachedAliases(b)).get("fast")?.model, "gpt-5.5");
});

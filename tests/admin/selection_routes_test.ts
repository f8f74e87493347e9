import assert from "node:assert/strict";
import { accountsEnv } from "../accounts/helpers.ts";
import { listAudit } from "../../src/audit.ts";
import { keys } from "../../src/kv/keys.ts";
import { createApp } from "../../src/app.ts";

Deno.test("admin selection: GET and PUT a provider's strategy; bad input changes nothing", async (t) => {
  await using env = await accountsEnv();

  await t.step("every provider starts at fill-first", async () => {
    const res = await env.admin("GET", "/selection");
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {
      providers: [
        { provider: "copilot", strategy: "fill-first", updatedAt: null },
        { provider: "codex", strategy: "fill-first", updatedAt: null },
        { provider: "claude", strategy: "fill-first", updatedAt: null },
      ],
    });
  });

  await t.step("PUT sets one provider, audited with the previous value", async () => {
    const res = await env.admin("PUT", "/selection/codex", { strategy: "round-robin" });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {
      provider: "codex",
      strategy: "round-robin",
      updatedAt: env.deps.now(),
    });
    const list = (await env.admin("GET", "/selection")).json.providers;
    assert.equal(
      list.find((p: { provider: string }) => p.provider === "codex").strategy,
      "round-robin",
    );
    assert.equal(
      list.find((p: { provider: string }) => p.provider === "claude").strategy,
      "fill-first",
    );
    const entry = (await listAudit(env.deps.kv, { limit: 5 })).entries[0]!;
    assert.equal(entry.action, "selection.updated");
    assert.equal(entry.target, "codex");
    assert.deepEqual(entry.details, { strategy: "round-robin", previous: "fill-first" });
  });

  await t.step("bad input: 400 in the kleis shape, nothing stored", async () => {
    const before = await env.deps.kv.get(keys.selectionStrategy("codex"));
    const cases: [string, unknown, string, RegExp][] = [
      ["/selection/codex", { strategy: "random" }, "invalid_request", /strategy/],
      ["/selection/codex", { strategy: 3 }, "invalid_request", /strategy/],
      ["/selection/codex", {}, "invalid_request", /strategy/],
      ["/selection/codex", { strategy: "least-used", extra: 1 }, "invalid_request", /extra/],
      ["/selection/codex", "[1,", "invalid_json", /JSON/],
      [
        "/selection/gemini",
        { strategy: "least-used" },
        "unknown_provider",
        /copilot, codex, claude/,
      ],
    ];
    for (const [path, body, code, message] of cases) {
      const res = await env.admin("PUT", path, body);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.equal(res.json.error.code, code);
      assert.match(res.json.error.message, message);
    }
    const after = await env.deps.kv.get(keys.selectionStrategy("codex"));
    assert.equal(after.versionstamp, before.versionstamp);
    assert.equal((await env.deps.kv.get(keys.selectionStrategy("gemini" as never))).value, null);
  });

  await t.step("the admin token is required", async () => {
    const res = await createApp(env.deps).request("/admin/selection", {
      method: "PUT",
      body: JSON.stringify({ strategy: "least-used" }),
    });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });
});

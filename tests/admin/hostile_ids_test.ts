/**
 * Hostile path segments on every route with a parameter: the routes are read
 * from the app itself, so a route added later is covered without editing
 * this test. Every answer must be a 4xx in the documented shape, never a 5xx.
 * Body fields that end up in a KV key or value (imported credentials) too.
 */
import assert from "node:assert/strict";
import { accountsEnv } from "../accounts/helpers.ts";
import { createApp } from "../../src/app.ts";
import { listAccounts } from "../../src/accounts/repository.ts";
import { unsignedJwt } from "../fakes/world.ts";

/** Raw (already percent-encoded where needed) path segments. */
const HOSTILE: Record<string, string> = {
  "3000 characters": "a".repeat(3000),
  "300-character file name": "a".repeat(300) + ".js",
  "201 bytes, one over the limit": "b".repeat(201),
  "700 four-byte characters": encodeURIComponent("💥".repeat(700)),
  "unicode": encodeURIComponent("ünïcødé-ид"),
  "NUL": "%00",
  "control characters": "%01%1F%7F",
  "encoded slash": "a%2Fb",
  "dot dot": "..",
  "encoded dot dot": "%2E%2E",
  "invalid percent-encoding": "%FF%FE",
  "lone percent": "%",
  "space": "a%20b",
};

const BODIES: Record<string, unknown> = {
  POST: {},
  PATCH: { label: "x" },
  PUT: {},
  DELETE: undefined,
  GET: undefined,
};

Deno.test("hostile ids on every parameterised route answer 4xx in the documented shape", async (t) => {
  await using env = await accountsEnv();
  const app = createApp(env.deps);
  const routes = app.routes
    .filter((r) => r.method !== "ALL" && r.path.includes("/:"))
    .map((r) => `${r.method} ${r.path}`);
  const unique = [...new Set(routes)];
  // The enumeration must see the routes this test was written against (and any added since).
  for (const known of ["GET /admin/keys/:id", "POST /admin/accounts/:id/refresh"]) {
    assert.ok(unique.includes(known), `route list lacks ${known}: ${unique.join(", ")}`);
  }
  for (const route of unique) {
    const [method, pattern] = route.split(" ") as [string, string];
    await t.step(route, async () => {
      for (const [name, segment] of Object.entries(HOSTILE)) {
        const path = pattern.replace(/:[A-Za-z]+(\{[^}]*\})?/g, segment);
        const body = BODIES[method];
        const res = await app.request(path, {
          method,
          headers: {
            authorization: `Bearer ${env.deps.config.adminToken}`,
            "x-api-key": "kleis_not_a_real_key",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        // The URL parser folds "/x/../" away before routing: then another route answers.
        const folded = !new URL(path, "http://kleis.test").pathname.includes(segment);
        if (folded && res.status < 400) continue;
        assert.ok(
          res.status >= 400 && res.status < 500,
          `${method} ${pattern} with ${name}: ${res.status} ${text.slice(0, 300)}`,
        );
        const json = JSON.parse(text);
        assert.equal(typeof json.error?.message, "string", `${name}: ${text.slice(0, 300)}`);
        assert.ok(text.length < 2000, `${name}: the error echoes the hostile input`);
      }
    });
  }
});

Deno.test("over-long and odd ids: exact answers, and nothing is written", async (t) => {
  await using env = await accountsEnv();
  const before: Deno.KvKey[] = [];
  for await (const entry of env.deps.kv.list({ prefix: [] })) before.push(entry.key);

  await t.step("an id over 200 bytes is a 404 that does not echo it", async () => {
    for (const path of [`/keys/${"k".repeat(201)}`, `/accounts/${"a".repeat(5000)}/refresh`]) {
      const res = await env.admin(path.endsWith("refresh") ? "POST" : "GET", path);
      assert.equal(res.status, 404);
      assert.equal(res.json.error.code, "not_found");
      assert.match(res.json.error.message, /at most 200 bytes/);
      assert.ok(!JSON.stringify(res.json).includes("kkkkkkkkkk"));
    }
  });

  await t.step("a 200-byte id is looked up normally: 404 not_found", async () => {
    const res = await env.admin("GET", `/keys/${"k".repeat(200)}`);
    assert.equal(res.status, 404);
    assert.equal(res.json.error.code, "not_found");
  });

  await t.step("multi-byte characters count as bytes: 67 × 3 bytes is over", async () => {
    const res = await env.admin("GET", `/accounts/${encodeURIComponent("€".repeat(67))}`);
    assert.equal(res.status, 404);
    assert.match(res.json.error.message, /at most 200 bytes/);
    const fits = await env.admin("GET", `/accounts/${encodeURIComponent("€".repeat(66))}`);
    assert.equal(fits.status, 404);
    assert.match(fits.json.error.message, /Account .* was not found/);
  });

  await t.step("NUL and control characters are refused", async () => {
    for (const segment of ["%00", "a%0Ab", "%7F"]) {
      const res = await env.admin("DELETE", `/keys/${segment}`);
      assert.equal(res.status, 404, segment);
      assert.match(res.json.error.message, /printable text/);
    }
  });

  await t.step("an encoded slash or dots name no key: 404", async () => {
    for (const segment of ["a%2Fb", "%2E%2E%2Fx", "..."]) {
      const res = await env.admin("GET", `/keys/${segment}`);
      assert.equal(res.status, 404, segment);
    }
  });

  await t.step("an over-long asset name is refused before the file system", async () => {
    const app = createApp(env.deps);
    const long = await app.request(`/admin/assets/${"a".repeat(300)}.js`);
    assert.equal(long.status, 404);
    assert.match((await long.json()).error.message, /at most 200 bytes/);
    const longish = await app.request(`/admin/assets/${"a".repeat(150)}.js`);
    assert.equal(longish.status, 404);
    const real = await app.request("/admin/assets/app.css");
    assert.equal(real.status, 200);
  });

  await t.step("a proxy path answers in its own shape", async () => {
    const app = createApp(env.deps);
    const res = await app.request(`/openai/v1/${"x".repeat(300)}`, { method: "POST" });
    assert.equal(res.status, 404);
    const json = await res.json();
    assert.equal(json.error.code, "not_found");
    assert.equal(json.error.type, "not_found_error");
  });

  await t.step("nothing was written by any of it", async () => {
    const after: Deno.KvKey[] = [];
    for await (const entry of env.deps.kv.list({ prefix: [] })) {
      if (entry.key[0] !== "lockout") after.push(entry.key);
    }
    assert.deepEqual(after, before);
  });
});

Deno.test("over-long credential fields are refused with a 400 naming the field, nothing stored", async (t) => {
  await using env = await accountsEnv();
  const big = "x".repeat(100_000);
  const cases: [string, string, unknown, RegExp][] = [
    ["claude", "a 100 KB access token", { accessToken: `sk-ant-${big}` }, /accessToken is longer/],
    [
      "claude",
      "a 100 KB refresh token in a file",
      { claudeAiOauth: { accessToken: "sk-ant-a", refreshToken: big } },
      /refreshToken is longer/,
    ],
    [
      "codex",
      "a 5000-character account id",
      { tokens: { access_token: "a.b.c", account_id: "a".repeat(5000) } },
      /accountId is longer/,
    ],
    [
      "copilot",
      "a 3000-character host",
      { ["h".repeat(3000)]: { oauth_token: "gho_x" } },
      /host is longer/,
    ],
    [
      "codex",
      "a JWT whose account id claim is 300 characters",
      {
        accessToken: unsignedJwt({
          "https://api.openai.com/auth": { chatgpt_account_id: "c".repeat(300) },
          exp: 1893456000,
        }),
      },
      /account id these credentials carry is longer than 200 bytes/,
    ],
  ];
  for (const [provider, name, body, message] of cases) {
    await t.step(name, async () => {
      const res = await env.admin("POST", `/accounts/${provider}/import`, body);
      assert.equal(res.status, 400, JSON.stringify(res.json).slice(0, 300));
      assert.equal(res.json.error.code, "invalid_credentials");
      assert.match(res.json.error.message, message);
      assert.equal((await listAccounts(env.deps.kv)).length, 0);
    });
  }
});

Deno.test("an over-long model id on a proxy route is a 400 in the route's shape, not echoed", async () => {
  await using env = await accountsEnv();
  const app = createApp(env.deps);
  const created = await env.admin("POST", "/keys", { label: "hostile" });
  const secret = created.json.secret as string;
  for (
    const [path, shape] of [
      ["/openai/v1/responses", "openai"],
      ["/anthropic/v1/messages", "anthropic"],
    ] as const
  ) {
    const res = await app.request(path, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "m".repeat(3000), input: "hi", max_tokens: 1, messages: [] }),
    });
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assert.ok(!text.includes("mmmmmmmmmm"));
    const json = JSON.parse(text);
    if (shape === "openai") assert.equal(json.error.code, "invalid_model");
    else assert.equal(json.type, "error");
    assert.match(json.error.message, /longer than 200 characters/);
  }
});

import assert from "node:assert/strict";
import { testDeps } from "../support/test_deps.ts";
import { createApp } from "../../src/app.ts";
import { keys } from "../../src/kv/keys.ts";
import type { ApiKeyRecord } from "../../src/model/keys.ts";
import type { AccountRecord } from "../../src/model/accounts.ts";
import { adminCall, callWithKey, createKey } from "./helpers.ts";

Deno.test("POST /admin/keys creates a key whose secret is shown once and stored only as a hash", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);

  await t.step("the answer has the secret, the view has no secret or hash", async () => {
    const { key, secret } = await createKey(app, deps, {
      label: " laptop ",
      providers: ["codex", "claude"],
      models: ["gpt-5*", "anthropic/claude-sonnet-4-5"],
      limits: { requestsPerMinute: 60, concurrent: 4, tokensPerDay: 1_000_000 },
      expiresAt: deps.now() + 86_400_000,
    });
    assert.match(secret, /^kleis_[0-9A-Za-z]{40}$/);
    assert.equal(key.prefix, secret.slice(0, 12));
    assert.equal(key.label, "laptop");
    assert.deepEqual(key.limits, { requestsPerMinute: 60, concurrent: 4, tokensPerDay: 1_000_000 });
    assert.equal(key.status, "active");
    assert.match(String(key.discoveryUrl), /^http:\/\/localhost\/api\/[0-9A-Za-z]{32}$/);
    assert.equal("hash" in key, false);
    assert.equal("secret" in key, false);
    assert.equal("discoveryToken" in key, false);

    const stored = (await deps.kv.get<ApiKeyRecord>(keys.apiKey(key.id))).value!;
    assert.notEqual(stored.hash, secret);
    assert.equal(JSON.stringify(stored).includes(secret), false);
    const byHash = await deps.kv.get<string>(keys.apiKeyByHash(stored.hash));
    assert.equal(byHash.value, key.id);
    const byToken = await deps.kv.get<string>(keys.apiKeyByDiscoveryToken(stored.discoveryToken));
    assert.equal(byToken.value, key.id);
  });

  await t.step(
    "GET /admin/keys lists keys without secrets, with Cache-Control: no-store",
    async () => {
      const res = await adminCall(app, deps, "GET", "/admin/keys");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), "no-store");
      const list = res.json.keys as Record<string, unknown>[];
      assert.equal(list.length, 1);
      assert.deepEqual(
        Object.keys(list[0]!).sort(),
        [
          "createdAt",
          "discoveryUrl",
          "expiresAt",
          "id",
          "label",
          "limits",
          "models",
          "prefix",
          "providers",
          "status",
          "updatedAt",
        ],
      );
    },
  );

  await t.step("two keys get different secrets, ids and discovery tokens", async () => {
    const a = await createKey(app, deps, { label: "a" });
    const b = await createKey(app, deps, { label: "b" });
    assert.notEqual(a.secret, b.secret);
    assert.notEqual(a.key.id, b.key.id);
    assert.notEqual(a.key.discoveryUrl, b.key.discoveryUrl);
  });

  await t.step("an audit entry 'key.created' is written without the secret", async () => {
    const res = await adminCall(app, deps, "GET", "/admin/audit");
    const entries = res.json.entries as { action: string }[];
    assert.deepEqual(entries.map((e) => e.action), ["key.created", "key.created", "key.created"]);
    assert.equal(/kleis_\w{13,}/.test(JSON.stringify(entries)), false);
  });
});

Deno.test("POST /admin/keys rejects bad input with a 400 naming the field and stores nothing", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const cases: [string, unknown, RegExp][] = [
    ["missing label", {}, /"label"/],
    ["empty label", { label: "  " }, /"label"/],
    ["unknown provider", { label: "x", providers: ["gemini"] }, /"providers\.0"/],
    ["models not strings", { label: "x", models: [1] }, /"models\.0"/],
    [
      "negative limit",
      { label: "x", limits: { requestsPerMinute: -1 } },
      /"limits\.requestsPerMinute"/,
    ],
    ["fractional concurrent", { label: "x", limits: { concurrent: 1.5 } }, /"limits\.concurrent"/],
    ["unknown limit", { label: "x", limits: { perHour: 1 } }, /"limits\.perHour"/],
    ["unknown field", { label: "x", scopes: [] }, /"scopes"/],
    ["expiry in the past", { label: "x", expiresAt: Date.UTC(2020, 0, 1) }, /"expiresAt"/],
    ["expiry not a date", { label: "x", expiresAt: "tomorrow" }, /"expiresAt"/],
    ["unknown account provider", { label: "x", accounts: { gemini: "a" } }, /"accounts/],
    [
      "account that does not exist",
      { label: "x", accounts: { codex: "nope" } },
      /"accounts\.codex"/,
    ],
    ["account of a provider not allowed", {
      label: "x",
      providers: ["claude"],
      accounts: { codex: "acc1" },
    }, /"accounts\.codex"/],
  ];
  for (const [name, body, field] of cases) {
    await t.step(name, async () => {
      const res = await adminCall(app, deps, "POST", "/admin/keys", body);
      assert.equal(res.status, 400, JSON.stringify(res.json));
      const error = res.json.error as { code: string; message: string };
      assert.equal(error.code, "invalid_request");
      assert.match(error.message, field);
    });
  }
  await t.step("a body that is not JSON is a 400 invalid_json", async () => {
    const res = await app.request("/admin/keys", {
      method: "POST",
      headers: { authorization: `Bearer ${deps.config.adminToken}` },
      body: "{label:",
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, "invalid_json");
  });
  await t.step("nothing was stored", async () => {
    const res = await adminCall(app, deps, "GET", "/admin/keys");
    assert.deepEqual(res.json.keys, []);
  });
});

Deno.test("pinned accounts must be existing accounts of that provider", async () => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const account: AccountRecord = {
    id: "acc1",
    provider: "codex",
    externalId: "ext",
    label: "work",
    enabled: true,
    priority: 0,
    createdAt: 1,
    updatedAt: 1,
    meta: {},
  };
  await deps.kv.set(keys.account("acc1"), account);
  const ok = await adminCall(app, deps, "POST", "/admin/keys", {
    label: "pinned",
    accounts: { codex: "acc1" },
  });
  assert.equal(ok.status, 201);
  const wrongProvider = await adminCall(app, deps, "POST", "/admin/keys", {
    label: "pinned",
    accounts: { claude: "acc1" },
  });
  assert.equal(wrongProvider.status, 400);
  assert.match((wrongProvider.json.error as { message: string }).message, /accounts\.claude/);
});

Deno.test("PATCH /admin/keys/:id changes the given fields, null clears, and audits", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const { key } = await createKey(app, deps, {
    label: "old",
    providers: ["codex"],
    limits: { requestsPerMinute: 5 },
  });

  await t.step("label and models change, the rest stays", async () => {
    deps.clock.advance(1000);
    const res = await adminCall(app, deps, "PATCH", `/admin/keys/${key.id}`, {
      label: "new",
      models: ["gpt-5"],
    });
    assert.equal(res.status, 200);
    const view = res.json.key as Record<string, unknown>;
    assert.equal(view.label, "new");
    assert.deepEqual(view.models, ["gpt-5"]);
    assert.deepEqual(view.providers, ["codex"]);
    assert.deepEqual(view.limits, { requestsPerMinute: 5 });
    assert.equal(view.updatedAt, deps.now());
  });

  await t.step("null removes providers and limits", async () => {
    const res = await adminCall(app, deps, "PATCH", `/admin/keys/${key.id}`, {
      providers: null,
      limits: null,
    });
    assert.equal(res.status, 200);
    const stored = (await deps.kv.get<ApiKeyRecord>(keys.apiKey(key.id))).value!;
    assert.equal(stored.providers, undefined);
    assert.equal(stored.limits, undefined);
  });

  await t.step("invalid values are 400 and change nothing", async () => {
    const before = (await deps.kv.get<ApiKeyRecord>(keys.apiKey(key.id))).value;
    const res = await adminCall(app, deps, "PATCH", `/admin/keys/${key.id}`, {
      label: "x",
      providers: ["nope"],
    });
    assert.equal(res.status, 400);
    assert.match((res.json.error as { message: string }).message, /"providers\.0"/);
    assert.deepEqual((await deps.kv.get<ApiKeyRecord>(keys.apiKey(key.id))).value, before);
  });

  await t.step("an unknown key is a 404 in the kleis shape", async () => {
    const res = await adminCall(app, deps, "PATCH", "/admin/keys/nope", { label: "x" });
    assert.equal(res.status, 404);
    assert.equal((res.json.error as { code: string }).code, "not_found");
  });

  await t.step("the audit log has key.updated naming the fields", async () => {
    const res = await adminCall(app, deps, "GET", "/admin/audit?limit=1");
    const [entry] = res.json.entries as { action: string; details: { fields: string } }[];
    assert.equal(entry?.action, "key.updated");
    assert.equal(entry?.details.fields, "providers,limits");
  });
});

Deno.test("revoke, rotate and delete follow the key's lifecycle", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const { key, secret } = await createKey(app, deps, { label: "k" });
  let current = secret;
  // Audit ids sort by millisecond: every step happens at a later time.
  deps.clock.advance(1000);

  await t.step(
    "rotate with a grace keeps the old secret working until the grace ends",
    async () => {
      const res = await adminCall(app, deps, "POST", `/admin/keys/${key.id}/rotate`, {
        graceSeconds: 60,
      });
      assert.equal(res.status, 200);
      const fresh = res.json.secret as string;
      assert.notEqual(fresh, secret);
      assert.equal((res.json.key as { prefix: string }).prefix, fresh.slice(0, 12));
      assert.equal((await callWithKey(app, fresh)).status, 200);
      assert.equal((await callWithKey(app, secret)).status, 200);
      deps.clock.advance(59_000);
      assert.equal((await callWithKey(app, secret)).status, 200);
      deps.clock.advance(1_000);
      assert.equal((await callWithKey(app, secret)).status, 401);
      assert.equal((await callWithKey(app, fresh)).status, 200);
      current = fresh;
    },
  );

  await t.step("rotate without a grace ends the old secret at once", async () => {
    deps.clock.advance(1000);
    const again = await adminCall(app, deps, "POST", `/admin/keys/${key.id}/rotate`);
    assert.equal(again.status, 200);
    assert.equal((await callWithKey(app, current)).status, 401);
    assert.equal((await callWithKey(app, again.json.secret as string)).status, 200);
    const stored = (await deps.kv.get<ApiKeyRecord>(keys.apiKey(key.id))).value!;
    assert.equal(stored.previousHash, undefined);
    // Neither old hash is still indexed.
    const hashes = [];
    for await (const e of deps.kv.list({ prefix: ["api_key_hashes"] })) hashes.push(e.key);
    assert.equal(hashes.length, 1);
  });

  await t.step("rotate rejects a grace above 7 days", async () => {
    const res = await adminCall(app, deps, "POST", `/admin/keys/${key.id}/rotate`, {
      graceSeconds: 7 * 86400 + 1,
    });
    assert.equal(res.status, 400);
    assert.match((res.json.error as { message: string }).message, /"graceSeconds"/);
  });

  await t.step("delete of an active key is 409", async () => {
    const res = await adminCall(app, deps, "DELETE", `/admin/keys/${key.id}`);
    assert.equal(res.status, 409);
    assert.equal((res.json.error as { code: string }).code, "key_not_revoked");
  });

  await t.step("revoke marks the key revoked; patch and rotate are then 409", async () => {
    deps.clock.advance(1000);
    const res = await adminCall(app, deps, "POST", `/admin/keys/${key.id}/revoke`);
    assert.equal(res.status, 200);
    assert.equal((res.json.key as { status: string }).status, "revoked");
    assert.equal((res.json.key as { revokedAt: number }).revokedAt, deps.now());
    const patch = await adminCall(app, deps, "PATCH", `/admin/keys/${key.id}`, { label: "x" });
    assert.equal(patch.status, 409);
    const rotate = await adminCall(app, deps, "POST", `/admin/keys/${key.id}/rotate`);
    assert.equal(rotate.status, 409);
  });

  await t.step("delete of a revoked key removes the record and its indexes", async () => {
    deps.clock.advance(1000);
    const res = await adminCall(app, deps, "DELETE", `/admin/keys/${key.id}`);
    assert.equal(res.status, 200);
    for (const prefix of [["api_keys"], ["api_key_hashes"], ["api_key_discovery"]]) {
      const left = [];
      for await (const e of deps.kv.list({ prefix })) left.push(e);
      assert.deepEqual(left, [], `left under ${prefix}`);
    }
    assert.equal((await adminCall(app, deps, "GET", `/admin/keys/${key.id}`)).status, 404);
  });

  await t.step("the audit log lists every step newest first", async () => {
    const res = await adminCall(app, deps, "GET", "/admin/audit");
    const actions = (res.json.entries as { action: string }[]).map((e) => e.action);
    assert.deepEqual(actions, [
      "key.deleted",
      "key.revoked",
      "key.rotated",
      "key.rotated",
      "key.created",
    ]);
  });
});

Deno.test("an expired key is refused with the same 401 as an unknown one", async () => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const { secret } = await createKey(app, deps, { label: "short", expiresAt: deps.now() + 1000 });
  assert.equal((await callWithKey(app, secret)).status, 200);
  deps.clock.advance(1000);
  const expired = await callWithKey(app, secret);
  const unknown = await callWithKey(app, "kleis_" + "x".repeat(40));
  assert.equal(expired.status, 401);
  assert.equal(unknown.status, 401);
  assert.deepEqual(await expired.json(), await unknown.json());
});

Deno.test("GET /admin/keys shows lastUsedAt as recorded by usage ingestion", async () => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const { key } = await createKey(app, deps, { label: "used" });
  await deps.kv.set(keys.lastUsed("key", key.id), new Deno.KvU64(1_800_000_000_000n));
  const list = await adminCall(app, deps, "GET", "/admin/keys");
  assert.equal((list.json.keys as { lastUsedAt?: number }[])[0]?.lastUsedAt, 1_800_000_000_000);
  const one = await adminCall(app, deps, "GET", `/admin/keys/${key.id}`);
  assert.equal((one.json.key as { lastUsedAt?: number }).lastUsedAt, 1_800_000_000_000);
});

import assert from "node:assert/strict";
import { accountsEnv, fixture } from "./helpers.ts";
import { testDeps } from "../support/test_deps.ts";
import { exportBackup, restoreBackup } from "../../src/accounts/backup.ts";
import { getPrimaryAccountId, listAccounts, loadTokens } from "../../src/accounts/repository.ts";
import { keys } from "../../src/kv/keys.ts";
import { listAudit } from "../../src/audit.ts";

Deno.test("backup: export is sealed, restores accounts and keys with the same key only", async (t) => {
  await using env = await accountsEnv();
  await env.admin("POST", "/accounts/codex/import", await fixture("codex-auth.json"));
  await env.admin("POST", "/accounts/claude/import", await fixture("claude-credentials.json"));
  const key = {
    id: "key_1",
    label: "k",
    hash: "a".repeat(64),
    prefix: "kleis_abc",
    discoveryToken: "disc_1",
    createdAt: 1,
    updatedAt: 1,
  };
  await env.deps.kv.set(keys.apiKey(key.id), key);

  const res = await env.admin("GET", "/export");
  assert.equal(res.status, 200);
  const file = res.json;
  assert.equal(file.format, "kleis-backup");
  assert.equal(file.accounts, 2);
  assert.equal(file.apiKeys, 1);

  await t.step("no token or hash in clear in the export", async () => {
    const text = JSON.stringify(file);
    // Whole secrets, not short prefixes: three base64 characters such as "eyJ"
    // turn up in random ciphertext by chance (about one export in seventy).
    const stored = [];
    for (const account of await listAccounts(env.deps.kv)) {
      const loaded = await loadTokens(env.deps, account.id);
      stored.push(loaded!.tokens.accessToken);
      if (loaded!.tokens.refreshToken) stored.push(loaded!.tokens.refreshToken);
    }
    assert.equal(stored.length, 4);
    const jwtHeader = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9";
    for (
      const secret of [
        "rt_fixture_codex_0001",
        "sk-ant-",
        jwtHeader,
        "a".repeat(64),
        "disc_1",
        ...stored,
      ]
    ) {
      assert.ok(!text.includes(secret), secret);
    }
  });

  await t.step("restore into an empty store rebuilds records, tokens and indexes", async () => {
    await using other = await testDeps();
    const summary = await restoreBackup(other, file);
    assert.deepEqual(summary, { accounts: 2, apiKeys: 1, settings: 0, skipped: [] });
    const accounts = await listAccounts(other.kv);
    assert.equal(accounts.length, 2);
    for (const a of accounts) {
      assert.equal(
        (await other.kv.get(keys.accountByExternalId(a.provider, a.externalId))).value,
        a.id,
      );
      assert.equal(await getPrimaryAccountId(other.kv, a.provider), a.id);
      const tokens = await loadTokens(other, a.id);
      assert.ok(tokens!.tokens.accessToken.length > 10);
    }
    assert.equal((await other.kv.get(keys.apiKeyByHash(key.hash))).value, key.id);
    assert.equal(
      (await other.kv.get(keys.apiKeyByDiscoveryToken(key.discoveryToken))).value,
      key.id,
    );
    const audit = await listAudit(other.kv, { limit: 10 });
    assert.ok(audit.entries.some((e) => e.action === "backup.restored"));
  });

  await t.step("restoring over the same store updates ids and removes nothing", async () => {
    await env.admin("POST", "/accounts/copilot/import", await fixture("copilot-hosts.json"));
    const r = await env.admin("POST", "/restore", file);
    assert.equal(r.status, 200);
    assert.equal(r.json.accounts, 2);
    assert.equal((await listAccounts(env.deps.kv)).length, 3);
  });

  await t.step("another encryption key cannot open it; a damaged file is a 400", async () => {
    await using other = await testDeps({
      config: { encryptionKey: new Uint8Array(32).fill(1) },
    });
    await assert.rejects(() => restoreBackup(other, file), /another KLEIS_ENCRYPTION_KEY/);
    assert.equal((await listAccounts(other.kv)).length, 0);
    const bad = await env.admin("POST", "/restore", {
      format: "kleis-backup",
      version: 1,
      sealed: "v1.x.y",
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, "invalid_backup");
  });

  await t.step("export is audited", async () => {
    const direct = await exportBackup(env.deps);
    assert.equal(direct.accounts, 3);
    const audit = await listAudit(env.deps.kv, { limit: 50 });
    assert.ok(audit.entries.some((e) => e.action === "backup.exported"));
  });
});

Deno.test("backup: aliases, selection strategies and alert settings travel with it", async (t) => {
  await using env = await accountsEnv();
  await env.admin("POST", "/accounts/codex/import", await fixture("codex-auth.json"));
  const secret = "whsec-backup-secret-0123456789";
  for (
    const [method, path, body] of [
      ["PUT", "/aliases/fast", { target: "copilot/gpt-5-mini" }],
      ["PUT", "/aliases/deep", { target: "codex/gpt-5.5-high" }],
      ["PUT", "/selection/codex", { strategy: "round-robin" }],
      ["PATCH", "/alerts", { url: "https://hooks.example.com/kleis", secret }],
    ] as const
  ) {
    const res = await env.admin(method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.json)}`);
  }
  const file = (await env.admin("GET", "/export")).json;
  assert.ok(!JSON.stringify(file).includes(secret), "the signing secret is not in clear");

  await t.step("restored into an empty store, the settings read back as they were", async () => {
    await using other = await testDeps({ config: { ...env.deps.config } });
    const summary = await restoreBackup(other, file);
    assert.deepEqual(summary, { accounts: 1, apiKeys: 0, settings: 4, skipped: [] });
    const read = async (kv: Deno.Kv, key: Deno.KvKey) => (await kv.get(key)).value;
    for (
      const key of [
        keys.modelAlias("fast"),
        keys.modelAlias("deep"),
        keys.selectionStrategy("codex"),
        keys.alertSettings(),
      ]
    ) {
      assert.notEqual(await read(other.kv, key), null, JSON.stringify(key));
      assert.deepEqual(await read(other.kv, key), await read(env.deps.kv, key));
    }
    assert.equal(await read(other.kv, keys.selectionStrategy("claude")), null);
  });

  await t.step("a setting of an unknown kind in the payload is skipped, not written", async () => {
    const { seal, unseal } = await import("../../src/crypto.ts");
    const payload = await unseal<Record<string, unknown>>(
      env.deps.sealingKey,
      file.sealed,
      "backup",
    );
    payload.settings = [
      { key: ["api_keys", "key_x"], value: { id: "key_x" } },
      { key: ["model_aliases", "ok"], value: { name: "ok" } },
    ];
    const forged = { ...file, sealed: await seal(env.deps.sealingKey, payload, "backup") };
    await using other = await testDeps({ config: { ...env.deps.config } });
    const summary = await restoreBackup(other, forged);
    assert.equal(summary.settings, 1);
    assert.deepEqual(summary.skipped, ["a setting of an unknown kind skipped"]);
    assert.equal((await other.kv.get(["api_keys", "key_x"])).value, null);
  });
});

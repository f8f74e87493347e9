import assert from "node:assert/strict";
import { accountsEnv, seedAccount } from "./helpers.ts";
import { listAudit } from "../../src/audit.ts";
import { keys } from "../../src/kv/keys.ts";
import { unseal } from "../../src/crypto.ts";
import { proxyContext } from "../../src/accounts/egress.ts";
import { exportBackup } from "../../src/accounts/backup.ts";
import { saveLogin } from "../../src/accounts/repository.ts";
import { redactProxyUrl, redactUserinfo } from "../../src/outbound_proxy.ts";
import type { AccountRecord } from "../../src/model/accounts.ts";

const SECRET = "Pa55-w0rd";

Deno.test("redactProxyUrl hides the password (and a lone user name)", () => {
  assert.equal(
    redactProxyUrl(`http://user:${SECRET}@proxy.example:3128`),
    "http://user:***@proxy.example:3128",
  );
  assert.equal(redactProxyUrl("socks5://tok3n@10.0.0.1:1080"), "socks5://***@10.0.0.1:1080");
  assert.equal(redactProxyUrl("http://proxy.example"), "http://proxy.example");
  assert.equal(redactProxyUrl("socks5h://u:p%40ss@h:1"), "socks5h://u:***@h:1");
  assert.equal(
    redactUserinfo(`proxy error (http://kleis:${SECRET}@10.0.0.1:3128) and http://h/x`),
    "proxy error (http://kleis:***@10.0.0.1:3128) and http://h/x",
  );
  assert.equal(
    redactUserinfo("connect to socks5://tok3n@10.0.0.1:1080 refused"),
    "connect to socks5://***@10.0.0.1:1080 refused",
  );
});

Deno.test("admin accounts: an outbound proxy is set, shown redacted, sealed at rest, cleared", async (t) => {
  await using env = await accountsEnv();
  const { id } = await seedAccount(env, "codex", { expiresInSec: 3600 });
  const url = `socks5://kleis:${SECRET}@127.0.0.1:1080`;

  await t.step("bad URLs: 400 naming the field, never echoing it; nothing changes", async () => {
    const before = await env.deps.kv.get(keys.account(id));
    const cases: [unknown, RegExp][] = [
      [
        `ftp://u:${SECRET}@h:21`,
        /scheme must be one of http:\/\/, socks5:\/\/, socks5h:\/\//,
      ],
      [`https://u:${SECRET}@h:443`, /scheme must be one of/],
      [`not a url ${SECRET}`, /not a URL/],
      [`http://u:${SECRET}@h:1/path`, /no path/],
      [`http://u:${SECRET}@h:1/?q=1`, /no path, query/],
      [`http://h:1/#${SECRET}`, /fragment/],
      [`http://${"a".repeat(2050)}.example`, /longer than 2048/],
      [42, /proxy/],
      ["", /not a URL/],
    ];
    for (const [proxy, message] of cases) {
      const res = await env.admin("PATCH", `/accounts/${id}`, { proxy });
      assert.equal(res.status, 400, String(proxy));
      assert.equal(res.json.error.code, "invalid_request");
      assert.match(res.json.error.message, /"proxy"/);
      assert.match(res.json.error.message, message);
      assert.ok(!JSON.stringify(res.json).includes(SECRET));
    }
    assert.equal((await env.deps.kv.get(keys.account(id))).versionstamp, before.versionstamp);
  });

  await t.step("PATCH {proxy}: the answer, the list and the audit show it redacted", async () => {
    const res = await env.admin("PATCH", `/accounts/${id}`, { proxy: ` ${url} ` });
    assert.equal(res.status, 200);
    assert.equal(res.json.account.proxy, "socks5://kleis:***@127.0.0.1:1080");
    const list = await env.admin("GET", "/accounts");
    assert.equal(list.json.accounts[0].proxy, "socks5://kleis:***@127.0.0.1:1080");
    const audit = (await listAudit(env.deps.kv, { limit: 1 })).entries[0]!;
    assert.equal(audit.action, "account.updated");
    assert.deepEqual(audit.details, { proxy: "socks5://kleis:***@127.0.0.1:1080" });
    for (
      const text of [JSON.stringify(res.json), JSON.stringify(list.json), JSON.stringify(audit)]
    ) {
      assert.ok(!text.includes(SECRET));
    }
    assert.ok(!env.deps.logLines.join("\n").includes(SECRET));
  });

  await t.step(
    "at rest: sealed, bound to the account (opens only in its own context)",
    async () => {
      const record = (await env.deps.kv.get<AccountRecord>(keys.account(id))).value!;
      assert.ok(!JSON.stringify(record).includes(SECRET));
      assert.equal(await unseal(env.deps.sealingKey, record.proxy!.sealed, proxyContext(id)), url);
      await assert.rejects(
        unseal(env.deps.sealingKey, record.proxy!.sealed, proxyContext("other")),
      );
      const backup = await exportBackup(env.deps);
      assert.ok(!JSON.stringify(backup).includes(SECRET));
    },
  );

  await t.step("a new login of the same identity keeps the proxy", async () => {
    const record = (await env.deps.kv.get<AccountRecord>(keys.account(id))).value!;
    const tokens = env.fakes.world.issueCodexTokens({ accountId: record.externalId });
    await saveLogin(env.deps, "codex", {
      tokens: { accessToken: tokens.access_token, refreshToken: tokens.refresh_token },
      identity: { externalId: record.externalId, label: "again" },
    }, { source: "test" });
    const after = (await env.deps.kv.get<AccountRecord>(keys.account(id))).value!;
    assert.deepEqual(after.proxy, record.proxy);
  });

  await t.step("PATCH {proxy: null} clears it; other fields alone leave it", async () => {
    await env.admin("PATCH", `/accounts/${id}`, { proxy: "http://127.0.0.1:3128" });
    const label = await env.admin("PATCH", `/accounts/${id}`, { label: "Renamed" });
    assert.equal(label.json.account.proxy, "http://127.0.0.1:3128");
    const res = await env.admin("PATCH", `/accounts/${id}`, { proxy: null });
    assert.equal(res.status, 200);
    assert.equal("proxy" in res.json.account, false);
    assert.equal((await env.deps.kv.get<AccountRecord>(keys.account(id))).value!.proxy, undefined);
    const audit = (await listAudit(env.deps.kv, { limit: 1 })).entries[0]!;
    assert.deepEqual(audit.details, { proxy: "none" });
  });
});

/**
 * Outbound proxies per account against real forward proxies (tinyproxy for
 * http://, microsocks for socks5://). Each proxy connects to the backends
 * from its own loopback address, and the fakes record the peer address of
 * every request: a request that went through the proxy comes from that
 * address, a direct one from 127.0.0.1. Deno uses a client's explicit proxy
 * for loopback targets too (no NO_PROXY bypass), which these tests rely on
 * and so also show.
 */
import assert from "node:assert/strict";
import { type Harness, startHarness } from "./harness.ts";
import { bearer } from "../fakes/server.ts";
import { CODEX_PATH } from "../fakes/chatgpt.ts";
import { freePort, startMicrosocks, startTinyproxy } from "../support/forward_proxies.ts";
import {
  getAccount,
  patchAccount,
  removeAccount,
  saveLogin,
} from "../../src/accounts/repository.ts";
import { refreshTokens } from "../../src/accounts/refresh.ts";
import { getAccountQuota } from "../../src/accounts/quota.ts";
import { closeAllEgress, egressClientCount } from "../../src/accounts/egress.ts";
import { fetchCopilotModels } from "../../src/registry/copilot_models.ts";

const codexBody = { model: "gpt-5.5", input: "hello", stream: false };

/** Closes the app's proxy clients before the harness goes (declare after the harness). */
function egressCleanup(h: Harness) {
  return { [Symbol.asyncDispose]: () => closeAllEgress(h.deps) };
}

async function ask(h: Harness, path = "/openai/v1/responses", body: unknown = codexBody) {
  const res = await h.request(path, body);
  const text = await res.text();
  return { status: res.status, account: res.headers.get("x-kleis-account"), text };
}

Deno.test("http:// proxy (tinyproxy): everything one account sends goes through it, the other's does not", async (t) => {
  await using h = await startHarness();
  await using _egress = egressCleanup(h);
  await using proxy = await startTinyproxy();
  const a = await h.codexAccount("a");
  const b = await h.codexAccount("b");
  await patchAccount(h.deps, a.account.id, { proxy: proxy.url });

  await t.step("the API call of account A comes from the proxy", async () => {
    const res = await ask(h);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.account, a.account.id);
    const sent = h.fakes.chatgpt.requestsTo(CODEX_PATH);
    assert.equal(sent.length, 1);
    assert.equal(bearer(sent[0]!), a.accessToken);
    assert.equal(sent[0]!.remoteAddress, proxy.source);
    assert.match(
      await proxy.log(),
      new RegExp(`Request .*POST ${h.fakes.chatgpt.url}${CODEX_PATH}`),
    );
  });

  await t.step("its token refresh and quota call go through the proxy too", async () => {
    await refreshTokens(h.deps, a.account.id, { force: true, evenIfJustWritten: true });
    const refresh = h.fakes.openaiAuth.requests.at(-1)!;
    assert.equal(refresh.path, "/oauth/token");
    assert.equal(refresh.remoteAddress, proxy.source);
    const quota = await getAccountQuota(h.deps, a.account.id);
    assert.ok(quota.windows.length > 0);
    assert.equal(h.fakes.chatgpt.requests.at(-1)!.remoteAddress, proxy.source);
    assert.match(await proxy.log(), /Request .*POST .*\/oauth\/token/);
  });

  await t.step("account B, without a proxy, goes direct", async () => {
    const logBefore = await proxy.log();
    await patchAccount(h.deps, a.account.id, { enabled: false });
    h.fakes.chatgpt.clearRequests();
    const res = await ask(h);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.account, b.account.id);
    const sent = h.fakes.chatgpt.requestsTo(CODEX_PATH);
    assert.equal(bearer(sent[0]!), b.accessToken);
    assert.equal(sent[0]!.remoteAddress, "127.0.0.1");
    assert.equal((await proxy.log()).split("Request ").length, logBefore.split("Request ").length);
  });

  await t.step("the proxy password is in no log line and not in the record", async () => {
    const lines = h.deps.logLines.join("\n");
    assert.ok(!lines.includes("pr0xy-s3cret"));
    const record = await getAccount(h.deps.kv, a.account.id);
    assert.ok(!JSON.stringify(record).includes("pr0xy-s3cret"));
    assert.equal(record?.proxy?.display, proxy.url.replace("pr0xy-s3cret", "***"));
  });
});

Deno.test("socks5:// proxy (microsocks): a Copilot account's token exchange, API and model list calls", async () => {
  await using h = await startHarness();
  await using _egress = egressCleanup(h);
  await using proxy = await startMicrosocks();
  // An editor (ghu_) token: it is exchanged for a Copilot API token before use.
  const { account } = await saveLogin(h.deps, "copilot", {
    tokens: { accessToken: h.fakes.world.issueCopilotToken({ login: "a", kind: "ghu" }) },
    identity: { externalId: "gh-a", label: "a" },
  }, { source: "test" });
  await patchAccount(h.deps, account.id, { proxy: proxy.url });

  const res = await ask(h, "/copilot/v1/chat/completions", {
    model: "gpt-4.1",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(res.status, 200, res.text);
  const exchange = h.fakes.githubApi.requestsTo("/copilot_internal/v2/token");
  assert.equal(exchange.length, 1);
  assert.equal(exchange[0]!.remoteAddress, proxy.source);
  const api = h.fakes.copilot.requests.filter((r) => r.method === "POST");
  assert.equal(api.length, 1);
  assert.equal(api[0]!.remoteAddress, proxy.source);

  await fetchCopilotModels(h.deps, (await getAccount(h.deps.kv, account.id))!);
  const models = h.fakes.copilot.requestsTo("/models").at(-1)!;
  assert.equal(models.remoteAddress, proxy.source);
  assert.ok(!h.deps.logLines.join("\n").includes("s0cks-s3cret"));
});

Deno.test("a proxy that fails is a transient failure of its account: failover, then a clear 502", async (t) => {
  await using h = await startHarness({ engine: { retry: { baseDelayMs: 1, maxDelayMs: 2 } } });
  await using _egress = egressCleanup(h);
  await using proxy = await startTinyproxy();
  await using socks = await startMicrosocks();
  const a = await h.codexAccount("a");
  const b = await h.codexAccount("b");

  await t.step("nothing listens at the proxy address: B answers", async () => {
    await patchAccount(h.deps, a.account.id, {
      proxy: `http://u:gone-s3cret@127.0.0.1:${freePort()}`,
    });
    const res = await ask(h);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.account, b.account.id);
    assert.equal(
      h.fakes.chatgpt.requestsTo(CODEX_PATH).filter((r) => bearer(r) === a.accessToken).length,
      0,
    );
    const lines = h.deps.logLines.join("\n");
    assert.match(lines, /Outbound proxy failed/);
    assert.match(lines, /http:\/\/u:\*\*\*@127\.0\.0\.1/);
    assert.ok(!lines.includes("gone-s3cret"));
  });

  await t.step("the HTTP proxy wants credentials (407): B answers", async () => {
    await patchAccount(h.deps, a.account.id, { proxy: proxy.url.replace(/\/\/.*@/, "//") });
    const res = await ask(h);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.account, b.account.id);
    assert.match(h.deps.logLines.join("\n"), /refused its credentials/);
  });

  await t.step("the SOCKS5 proxy refuses the password: B answers", async () => {
    await patchAccount(h.deps, a.account.id, {
      proxy: socks.url.replace("s0cks-s3cret", "wrong-s3cret"),
    });
    const res = await ask(h);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.account, b.account.id);
    assert.equal(
      h.fakes.chatgpt.requestsTo(CODEX_PATH).filter((r) => bearer(r) === a.accessToken).length,
      0,
    );
    assert.ok(!h.deps.logLines.join("\n").includes("wrong-s3cret"));
  });

  await t.step("no account left: 502 in the route's shape, saying what failed", async () => {
    await patchAccount(h.deps, b.account.id, { enabled: false });
    const res = await ask(h);
    assert.equal(res.status, 502);
    const body = JSON.parse(res.text);
    assert.match(body.error.message, /outbound proxy of the account/);
    assert.ok(!res.text.includes("127.0.0.1"), "the proxy's address is not shown to clients");
  });

  await t.step(
    "the right URL again: A goes through the proxy; clearing it goes direct",
    async () => {
      await patchAccount(h.deps, a.account.id, { proxy: proxy.url });
      assert.equal((await ask(h)).status, 200);
      assert.equal(h.fakes.chatgpt.requestsTo(CODEX_PATH).at(-1)!.remoteAddress, proxy.source);
      assert.equal(egressClientCount(h.deps), 1);
      await patchAccount(h.deps, a.account.id, { proxy: null });
      assert.equal(egressClientCount(h.deps), 0, "the client closed with the setting");
      assert.equal((await ask(h)).status, 200);
      assert.equal(h.fakes.chatgpt.requestsTo(CODEX_PATH).at(-1)!.remoteAddress, "127.0.0.1");
    },
  );
});

Deno.test("one client per account and URL: replaced on change, closed on removal", async () => {
  await using h = await startHarness();
  await using _egress = egressCleanup(h);
  await using http = await startTinyproxy();
  await using socks = await startMicrosocks();
  const a = await h.codexAccount("a");
  await patchAccount(h.deps, a.account.id, { proxy: http.url });
  for (let i = 0; i < 3; i++) assert.equal((await ask(h)).status, 200);
  assert.equal(egressClientCount(h.deps), 1);
  assert.deepEqual(
    [...new Set(h.fakes.chatgpt.requestsTo(CODEX_PATH).map((r) => r.remoteAddress))],
    [http.source],
  );
  await patchAccount(h.deps, a.account.id, { proxy: socks.url });
  assert.equal((await ask(h)).status, 200);
  assert.equal(h.fakes.chatgpt.requestsTo(CODEX_PATH).at(-1)!.remoteAddress, socks.source);
  assert.equal(egressClientCount(h.deps), 1);
  await removeAccount(h.deps, a.account.id);
  assert.equal(egressClientCount(h.deps), 0);
});

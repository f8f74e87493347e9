/**
 * The per-account proxy clients across two instances on one KV: created on
 * first use, replaced when another instance changes the URL, closed when
 * another instance removes the account (seen through the account cache).
 * No network: the injected fetch records the client it was handed.
 */
import assert from "node:assert/strict";
import { testDeps } from "../support/test_deps.ts";
import { ACCOUNT_CACHE_TTL_MS, sharedAccountCache } from "../../src/accounts/account_cache.ts";
import { accountFetch, closeAllEgress, egressClientCount } from "../../src/accounts/egress.ts";
import { patchAccount, removeAccount, saveLogin } from "../../src/accounts/repository.ts";
import { OutboundProxyError } from "../../src/outbound_proxy.ts";

Deno.test("outbound proxy clients follow changes made on another instance", async (t) => {
  await using a = await testDeps();
  const clients: unknown[] = [];
  await using b = await testDeps({
    kv: a.kv,
    clock: a.clock,
    fetch: (_input, init) => {
      clients.push((init as { client?: unknown } | undefined)?.client);
      return Promise.resolve(new Response("ok"));
    },
  });
  await using _cleanup = {
    [Symbol.asyncDispose]: async () => {
      await closeAllEgress(a);
      await closeAllEgress(b);
    },
  };
  const { account } = await saveLogin(a, "codex", {
    tokens: { accessToken: "at", refreshToken: "rt" },
    identity: { externalId: "x", label: "x" },
  }, { source: "test" });
  const send = async () => {
    const record = (await sharedAccountCache(b).get("codex")).accounts[0]!;
    return await accountFetch(b, record)("http://127.0.0.1:1/x");
  };

  await t.step("no proxy: the app's own fetch, no client", async () => {
    await send();
    assert.deepEqual(clients, [undefined]);
    assert.equal(egressClientCount(b), 0);
  });

  await t.step("a proxy set elsewhere: one client, reused", async () => {
    await patchAccount(a, account.id, { proxy: "http://u:p@127.0.0.1:3128" });
    a.clock.advance(ACCOUNT_CACHE_TTL_MS);
    await send();
    await send();
    assert.equal(egressClientCount(b), 1);
    assert.ok(clients[1] !== undefined);
    assert.equal(clients[2], clients[1]);
  });

  await t.step("the URL changed elsewhere: a new client replaces the old", async () => {
    await patchAccount(a, account.id, { proxy: "socks5://127.0.0.1:1080" });
    a.clock.advance(ACCOUNT_CACHE_TTL_MS);
    await send();
    assert.equal(egressClientCount(b), 1);
    assert.notEqual(clients[3], clients[2]);
  });

  await t.step("removed elsewhere: closed when this instance's list reloads", async () => {
    await removeAccount(a, account.id);
    a.clock.advance(ACCOUNT_CACHE_TTL_MS);
    assert.equal((await sharedAccountCache(b).get("codex")).accounts.length, 0);
    assert.equal(egressClientCount(b), 0);
  });
});

Deno.test("a sealed proxy URL that does not open (another key) fails the call as a proxy failure", async () => {
  await using a = await testDeps();
  await using b = await testDeps({ config: { encryptionKey: new Uint8Array(32).fill(9) } });
  const { account } = await saveLogin(a, "codex", {
    tokens: { accessToken: "at", refreshToken: "rt" },
    identity: { externalId: "x", label: "x" },
  }, { source: "test" });
  const record = await patchAccount(a, account.id, { proxy: "http://127.0.0.1:3128" });
  await assert.rejects(accountFetch(b, record)("http://127.0.0.1:1/x"), OutboundProxyError);
  assert.equal(egressClientCount(b), 0, "not kept: the next call tries again");
});

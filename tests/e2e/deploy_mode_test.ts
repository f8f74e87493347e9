/**
 * main.ts as Deno Deploy runs it (DENO_DEPLOYMENT_ID and DENO_DEPLOY set, the
 * address from DENO_SERVE_ADDRESS, Deno.serve's own start-up line): it starts,
 * serves a proxied request, and counts its usage through the direct-write
 * path (the platform has no KV queues; that no queue is touched there is
 * tested in tests/usage/queue_fallback_test.ts).
 */
import assert from "node:assert/strict";
import { startAllFakes } from "../fakes/mod.ts";
import { startKleis } from "../support/kleis_process.ts";
import { adminPost } from "../support/e2e_setup.ts";

Deno.test({
  name: "in Deno Deploy mode usage is written directly and counted",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const fakes = await startAllFakes();
  const kleis = await startKleis({
    env: {
      ...fakes.env,
      DENO_DEPLOYMENT_ID: "e2e-deployment",
      DENO_DEPLOY: "true",
      DENO_SERVE_ADDRESS: "tcp:127.0.0.1:0",
    },
  });
  try {
    const codex = fakes.world.issueCodexTokens();
    await adminPost(kleis, "/accounts/codex/import", {
      accessToken: codex.access_token,
      refreshToken: codex.refresh_token,
    });
    const { secret } = await adminPost(kleis, "/keys", { label: "deploy" }) as { secret: string };
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${kleis.url}/openai/v1/responses`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-5.5", input: "hello" }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      await res.body?.cancel();
    }
    let requests = 0;
    const deadline = Date.now() + 10_000;
    while (requests < 3 && Date.now() < deadline) {
      const res = await fetch(`${kleis.url}/admin/usage?windowMs=3600000`, {
        headers: { authorization: `Bearer ${kleis.adminToken}` },
      });
      requests = (await res.json()).totals.requests;
      if (requests < 3) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(requests, 3, kleis.output().slice(-3000));
    assert.ok(!kleis.output().includes("Could not enqueue"), kleis.output().slice(-3000));
  } finally {
    await kleis.stop();
    await fakes.close();
  }
});

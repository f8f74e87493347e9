import assert from "node:assert/strict";
import { Hono } from "hono";
import { testDeps } from "../support/test_deps.ts";
import { twoInstances } from "../support/two_instances.ts";
import { createApp } from "../../src/app.ts";
import type { AppEnv } from "../../src/app_env.ts";
import type { Deps } from "../../src/deps.ts";
import { errorResponse, errorStyleForPath, KleisError } from "../../src/errors.ts";
import { apiKeyAuth, LOCKOUT_RECHECK_MS } from "../../src/auth/api_key_auth.ts";
import { LOCKOUT_DURATION_MS, LOCKOUT_THRESHOLD } from "../../src/auth/lockout.ts";
import { listAudit } from "../../src/audit.ts";
import { adminCall, callWithKey, createKey, fromAddress } from "../keys/helpers.ts";

/** The middleware alone in front of a route that shows which key it saw. */
function probeApp(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use("/v1/*", apiKeyAuth(deps));
  app.get("/v1/whoami", (c) => c.json({ id: c.var.apiKey.id }));
  app.onError((error, c) =>
    errorResponse(
      errorStyleForPath(c.req.path),
      error instanceof KleisError ? error : new KleisError(500, "internal_error", "failed"),
    )
  );
  return app;
}

Deno.test("apiKeyAuth() accepts a key as Bearer (any case) or x-api-key and sets c.var.apiKey", async (t) => {
  await using deps = await testDeps();
  const admin = createApp(deps);
  const probe = probeApp(deps);
  const { key, secret } = await createKey(admin, deps, { label: "k" });
  const headersList: Record<string, string>[] = [
    { authorization: `Bearer ${secret}` },
    { authorization: `bearer ${secret}` },
    { authorization: `BEARER   ${secret}` },
    { "x-api-key": secret },
  ];
  for (const headers of headersList) {
    const [name, value] = Object.entries(headers)[0]!;
    await t.step(`${name}: ${value.split(" ")[0]}`, async () => {
      const res = await probe.request("/v1/whoami", { headers }, fromAddress("192.0.2.1"));
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { id: key.id });
    });
  }
});

Deno.test("missing, unknown, revoked and expired keys get one 401 in the prefix's native shape", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const revoked = await createKey(app, deps, { label: "r" });
  await adminCall(app, deps, "POST", `/admin/keys/${revoked.key.id}/revoke`);
  const expiring = await createKey(app, deps, { label: "e", expiresAt: deps.now() + 1 });
  deps.clock.advance(1);
  const cases: [string, string | undefined][] = [
    ["missing", undefined],
    ["unknown", "kleis_" + "A".repeat(40)],
    ["not even kleis-shaped", "sk-something"],
    ["revoked", revoked.secret],
    ["expired", expiring.secret],
  ];
  for (const [name, secret] of cases) {
    await t.step(name, async () => {
      const openai = await callWithKey(app, secret, { path: "/v1/models" });
      assert.equal(openai.status, 401);
      assert.deepEqual(await openai.json(), {
        error: {
          message: "The API key is missing or not valid.",
          type: "authentication_error",
          code: "invalid_api_key",
        },
      });
      const anthropic = await callWithKey(app, secret, {
        path: "/anthropic/v1/messages",
        header: "x-api-key",
      });
      assert.equal(anthropic.status, 401);
      assert.deepEqual(await anthropic.json(), {
        type: "error",
        error: { type: "authentication_error", message: "The API key is missing or not valid." },
      });
    });
  }
});

Deno.test("a revoked key is refused at once by a second instance that had just accepted it", async (t) => {
  await using pair = await twoInstances();
  const { a, appA, appB } = pair;
  const { key, secret } = await createKey(appA, a, { label: "shared" });

  await t.step("instance B accepts the key (and caches its hash → id)", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await callWithKey(appB, secret);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
  });

  await t.step("revoked on A, refused by B on the very next request", async () => {
    assert.equal((await adminCall(appA, a, "POST", `/admin/keys/${key.id}/revoke`)).status, 200);
    const res = await callWithKey(appB, secret);
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });

  await t.step("a key lockout started on A applies on B within LOCKOUT_RECHECK_MS", async () => {
    const other = await createKey(appA, a, { label: "victim" });
    const address = "203.0.113.77";
    assert.equal((await callWithKey(appB, other.secret, { address })).status, 200);
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      await (await callWithKey(appA, `kleis_guess${i}`, { address })).body?.cancel();
    }
    assert.equal((await callWithKey(appA, other.secret, { address })).status, 429);
    a.clock.advance(LOCKOUT_RECHECK_MS);
    const res = await callWithKey(appB, other.secret, { address });
    assert.equal(res.status, 429);
    await res.body?.cancel();
  });

  await t.step("a rotation on A without grace ends the old secret on B at once", async () => {
    const other = await createKey(appA, a, { label: "rotating" });
    assert.equal((await callWithKey(appB, other.secret)).status, 200);
    const rotated = await adminCall(appA, a, "POST", `/admin/keys/${other.key.id}/rotate`);
    assert.equal((await callWithKey(appB, other.secret)).status, 401);
    assert.equal((await callWithKey(appB, rotated.json.secret as string)).status, 200);
  });
});

Deno.test("an address sending many unknown keys is locked out like the admin case", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const { secret } = await createKey(app, deps, { label: "good" });
  const revoked = await createKey(app, deps, { label: "revoked" });
  await adminCall(app, deps, "POST", `/admin/keys/${revoked.key.id}/revoke`);
  const prober = "203.0.113.9";

  await t.step("revoked keys do not count as guesses", async () => {
    for (let i = 0; i < LOCKOUT_THRESHOLD + 2; i++) {
      const res = await callWithKey(app, revoked.secret, { address: prober });
      assert.equal(res.status, 401);
      await res.body?.cancel();
    }
  });

  await t.step("the threshold-th unknown key answers 429 in the native shape", async () => {
    for (let i = 0; i < LOCKOUT_THRESHOLD - 1; i++) {
      const res = await callWithKey(app, `kleis_guess${i}`, { address: prober });
      assert.equal(res.status, 401);
      await res.body?.cancel();
    }
    const res = await callWithKey(app, "kleis_lastguess", {
      address: prober,
      path: "/anthropic/v1/messages",
    });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), String(LOCKOUT_DURATION_MS / 1000));
    const body = await res.json();
    assert.equal(body.type, "error");
    assert.equal(body.error.type, "rate_limit_error");
  });

  await t.step("the valid key is refused from that address, accepted from others", async () => {
    const locked = await callWithKey(app, secret, { address: prober });
    assert.equal(locked.status, 429);
    assert.equal((await locked.json()).error.code, "locked_out");
    const elsewhere = await callWithKey(app, secret, { address: "203.0.113.10" });
    assert.equal(elsewhere.status, 200);
    await elsewhere.body?.cancel();
  });

  await t.step("the lockout lifts after the period", async () => {
    deps.clock.advance(LOCKOUT_DURATION_MS);
    const res = await callWithKey(app, secret, { address: prober });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });

  await t.step(
    "one key.auth_lockout audit entry names the address, no secret anywhere",
    async () => {
      const { entries } = await listAudit(deps.kv, { limit: 200 });
      const lockouts = entries.filter((e) => e.action === "key.auth_lockout");
      assert.equal(lockouts.length, 1);
      assert.equal(lockouts[0]?.address, prober);
      assert.equal(JSON.stringify(entries).includes(secret), false);
      assert.equal(deps.logLines.join("\n").includes(secret), false);
    },
  );
});

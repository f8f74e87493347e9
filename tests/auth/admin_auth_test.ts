import assert from "node:assert/strict";
import { testDeps } from "../support/test_deps.ts";
import { twoInstances } from "../support/two_instances.ts";
import { createApp } from "../../src/app.ts";
import {
  LOCKOUT_DURATION_MS,
  LOCKOUT_THRESHOLD,
  LOCKOUT_WINDOW_MS,
} from "../../src/auth/lockout.ts";
import { isAdminToken } from "../../src/auth/admin_auth.ts";
import { listAudit } from "../../src/audit.ts";
import { fromAddress } from "../keys/helpers.ts";

type App = ReturnType<typeof createApp>;

async function adminGet(app: App, token: string | undefined, address = "198.51.100.7") {
  const res = await app.request("/admin/keys", {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  }, fromAddress(address));
  return { status: res.status, headers: res.headers, body: await res.json() };
}

Deno.test("admin authentication", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const token = deps.config.adminToken;

  await t.step("the admin token is accepted, with any case of the Bearer scheme", async () => {
    assert.equal((await adminGet(app, token)).status, 200);
    const res = await app.request("/admin/keys", { headers: { authorization: `bearer ${token}` } });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });

  await t.step("a wrong, missing or prefixed token is 401 in the kleis shape", async () => {
    for (const bad of ["wrong", token + "x", token.slice(0, -1), undefined]) {
      const res = await adminGet(app, bad, "203.0.113.50");
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, {
        error: { code: "unauthorized", message: "The admin token is missing or wrong." },
      });
      assert.equal(res.headers.get("cache-control"), "no-store");
    }
  });

  await t.step(
    "isAdminToken() compares digests, so a longer or shorter guess is simply false",
    () => {
      assert.equal(isAdminToken(deps.config, token), true);
      assert.equal(isAdminToken(deps.config, ""), false);
      assert.equal(isAdminToken(deps.config, token.repeat(2)), false);
    },
  );
});

Deno.test("admin lockout triggers after the threshold, lifts after the period, and is per address", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const token = deps.config.adminToken;
  const attacker = "198.51.100.66";
  const bystander = "198.51.100.67";

  await t.step(`${LOCKOUT_THRESHOLD - 1} wrong tokens are 401 each`, async () => {
    for (let i = 0; i < LOCKOUT_THRESHOLD - 1; i++) {
      assert.equal((await adminGet(app, `guess-${i}`, attacker)).status, 401);
      deps.clock.advance(1000);
    }
  });

  await t.step("a missing token does not count as a guess", async () => {
    assert.equal((await adminGet(app, undefined, attacker)).status, 401);
    assert.equal((await adminGet(app, token, attacker)).status, 200);
  });

  await t.step("the threshold-th failure locks the address: 429 with Retry-After", async () => {
    const res = await adminGet(app, "last-guess", attacker);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), String(LOCKOUT_DURATION_MS / 1000));
    assert.equal(res.body.error.code, "locked_out");
  });

  await t.step("while locked, even the right token is refused", async () => {
    deps.clock.advance(60_000);
    const res = await adminGet(app, token, attacker);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), String(LOCKOUT_DURATION_MS / 1000 - 60));
  });

  await t.step("another address is not affected", async () => {
    assert.equal((await adminGet(app, token, bystander)).status, 200);
    assert.equal((await adminGet(app, "one-wrong", bystander)).status, 401);
  });

  await t.step("the lockout lifts after the period", async () => {
    deps.clock.advance(LOCKOUT_DURATION_MS - 60_000 - 1);
    assert.equal((await adminGet(app, token, attacker)).status, 429);
    deps.clock.advance(1);
    assert.equal((await adminGet(app, token, attacker)).status, 200);
  });

  await t.step(
    "one admin.lockout audit entry, plus one admin.login_failed per wrong token",
    async () => {
      const { entries } = await listAudit(deps.kv, { limit: 200 });
      const lockouts = entries.filter((e) => e.action === "admin.lockout");
      assert.equal(lockouts.length, 1);
      assert.equal(lockouts[0]?.address, attacker);
      assert.equal(
        entries.filter((e) => e.action === "admin.login_failed").length,
        LOCKOUT_THRESHOLD + 1,
      );
      assert.equal(JSON.stringify(entries).includes(token), false);
    },
  );
});

Deno.test("failures spread wider than the window never lock out", async () => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const address = "198.51.100.9";
  for (let i = 0; i < LOCKOUT_THRESHOLD * 2; i++) {
    assert.equal((await adminGet(app, "nope", address)).status, 401);
    deps.clock.advance(LOCKOUT_WINDOW_MS / (LOCKOUT_THRESHOLD - 1) + 1);
  }
});

Deno.test("with KLEIS_TRUST_PROXY the lockout follows X-Forwarded-For, otherwise the connection", async (t) => {
  await t.step("trusted proxy: addresses from X-Forwarded-For are told apart", async () => {
    await using deps = await testDeps({ config: { trustProxy: true } });
    const app = createApp(deps);
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      const res = await app.request("/admin/keys", {
        headers: { authorization: "Bearer bad", "x-forwarded-for": "192.0.2.10, 10.0.0.1" },
      }, fromAddress("10.0.0.1"));
      await res.body?.cancel();
    }
    const other = await app.request("/admin/keys", {
      headers: {
        authorization: `Bearer ${deps.config.adminToken}`,
        "x-forwarded-for": "192.0.2.11",
      },
    }, fromAddress("10.0.0.1"));
    assert.equal(other.status, 200);
    await other.body?.cancel();
  });

  await t.step("untrusted: a forged X-Forwarded-For does not dodge the lockout", async () => {
    await using deps = await testDeps();
    const app = createApp(deps);
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      const res = await app.request("/admin/keys", {
        headers: { authorization: "Bearer bad", "x-forwarded-for": `192.0.2.${i}` },
      }, fromAddress("10.0.0.2"));
      await res.body?.cancel();
    }
    const res = await app.request("/admin/keys", {
      headers: { authorization: `Bearer ${deps.config.adminToken}`, "x-forwarded-for": "1.2.3.4" },
    }, fromAddress("10.0.0.2"));
    assert.equal(res.status, 429);
    await res.body?.cancel();
  });
});

Deno.test("the lockout holds across instances sharing one KV file", async () => {
  await using pair = await twoInstances();
  const { a, b, appA, appB } = pair;
  // Failures alternate between the instances and add up.
  for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
    await adminGet(i % 2 ? appA : appB, "bad", "192.0.2.99");
  }
  assert.equal((await adminGet(appA, a.config.adminToken, "192.0.2.99")).status, 429);
  assert.equal((await adminGet(appB, b.config.adminToken, "192.0.2.99")).status, 429);
});

import assert from "node:assert/strict";
import { testDeps } from "./support/test_deps.ts";
import { createApp } from "../src/app.ts";
import { LOCKOUT_THRESHOLD } from "../src/auth/lockout.ts";
import { adminCall, createKey, fromAddress } from "./keys/helpers.ts";

type Shape = "kleis" | "openai" | "anthropic";

/** Asserts the error shape of docs/api.md#error-shapes and that nothing internal leaks. */
async function assertErrorShape(res: Response, status: number, shape: Shape) {
  assert.equal(res.status, status);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  const text = await res.text();
  assert.doesNotMatch(text, /\bat \S+:\d+:\d+|\.ts\b|Error:|stack/i, `internal text in ${text}`);
  const body = JSON.parse(text);
  if (shape === "kleis") {
    assert.deepEqual(Object.keys(body), ["error"]);
    assert.deepEqual(Object.keys(body.error).sort(), ["code", "message"]);
    assert.match(body.error.code, /^[a-z_]+$/);
  } else if (shape === "openai") {
    assert.deepEqual(Object.keys(body), ["error"]);
    assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "type"]);
  } else {
    assert.deepEqual(Object.keys(body).sort(), ["error", "type"]);
    assert.equal(body.type, "error");
    assert.deepEqual(Object.keys(body.error).sort(), ["message", "type"]);
  }
  assert.equal(typeof body.error.message, "string");
  assert.match(body.error.message, /^[A-Z].*[.!?]$/, "a sentence");
  return body;
}

Deno.test("every error answer has the documented shape and no stack trace", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const { secret } = await createKey(app, deps, { label: "shapes" });
  const withKey = { authorization: `Bearer ${secret}` };
  const admin = { authorization: `Bearer ${deps.config.adminToken}` };

  await t.step("admin 401", async () => {
    const res = await app.request("/admin/keys", { headers: { authorization: "Bearer no" } });
    await assertErrorShape(res, 401, "kleis");
  });

  const notFound: [string, Record<string, string>, Shape][] = [
    ["/nope", {}, "kleis"],
    ["/admin/nope", admin, "kleis"],
    ["/openai/v1/nope", withKey, "openai"],
    ["/anthropic/v1/nope", withKey, "anthropic"],
    ["/copilot/v1/nope", withKey, "openai"],
    ["/v1/nope", withKey, "openai"],
  ];
  for (const [path, headers, shape] of notFound) {
    await t.step(`404 ${path} (${shape})`, async () => {
      await assertErrorShape(await app.request(path, { headers }), 404, shape);
    });
  }

  await t.step("400 validation names the field", async () => {
    const res = await app.request("/admin/keys", {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ label: 5 }),
    });
    const body = await assertErrorShape(res, 400, "kleis");
    assert.match(body.error.message, /"label"/);
  });

  await t.step("409 conflict", async () => {
    const { key } = await createKey(app, deps, { label: "active" });
    const res = await app.request(`/admin/keys/${key.id}`, { method: "DELETE", headers: admin });
    await assertErrorShape(res, 409, "kleis");
  });

  await t.step("401 for a bad key in each proxy prefix's shape", async () => {
    const bad = { authorization: "Bearer kleis_nope" };
    await assertErrorShape(
      await app.request("/openai/v1/responses", { headers: bad }),
      401,
      "openai",
    );
    await assertErrorShape(
      await app.request("/anthropic/v1/messages", { headers: bad }),
      401,
      "anthropic",
    );
    await assertErrorShape(
      await app.request("/copilot/v1/messages", { headers: bad }),
      401,
      "anthropic",
    );
  });

  await t.step("429 lockout, with Retry-After", async () => {
    let res: Response | undefined;
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      await res?.body?.cancel();
      res = await app.request("/admin/keys", {
        headers: { authorization: "Bearer guess" },
      }, fromAddress("192.0.2.200"));
    }
    assert.ok(Number(res!.headers.get("retry-after")) > 0);
    await assertErrorShape(res!, 429, "kleis");
  });
});

Deno.test("an internal failure is a 500 without exception text; the log has the detail", async (t) => {
  // Our own KV, closed by the test itself (testDeps leaves a given KV alone).
  await using deps = await testDeps({ kv: await Deno.openKv(":memory:") });
  const app = createApp(deps);
  const { secret } = await createKey(app, deps, { label: "k" });
  deps.kv.close();

  await t.step("admin route whose KV is closed", async () => {
    const res = await app.request("/admin/keys", {
      headers: { authorization: `Bearer ${deps.config.adminToken}` },
    });
    const body = await assertErrorShape(res, 500, "kleis");
    assert.deepEqual(body, {
      error: { code: "internal_error", message: "Kleis failed to handle this request." },
    });
  });

  await t.step("proxy route whose KV is closed answers in its native shape", async () => {
    const res = await app.request("/v1/models", { headers: { authorization: `Bearer ${secret}` } });
    await assertErrorShape(res, 500, "openai");
    const anthropic = await app.request("/anthropic/v1/models", {
      headers: { "x-api-key": secret },
    });
    await assertErrorShape(anthropic, 500, "anthropic");
  });

  await t.step("the log has the failure, but not the key", () => {
    const log = deps.logLines.join("\n");
    assert.match(log, /Unhandled error/);
    assert.equal(log.includes(secret), false);
    assert.equal(log.includes(deps.config.adminToken), false);
  });
});

Deno.test("GET /healthz reads KV and answers 503 when KV is closed", async () => {
  await using deps = await testDeps({ kv: await Deno.openKv(":memory:") });
  const app = createApp(deps);
  const ok = await app.request("/healthz");
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("cache-control"), "no-store");
  const body = await ok.json();
  assert.equal(body.ok, true);
  assert.equal(body.kv, "ok");
  assert.equal(typeof body.version, "string");

  deps.kv.close();
  const down = await app.request("/healthz");
  assert.equal(down.status, 503);
  const downBody = await down.json();
  assert.equal(downBody.ok, false);
  assert.equal(downBody.kv, "unavailable");
  assert.equal(JSON.stringify(downBody).includes("closed"), false);
});

Deno.test("GET / redirects to /admin/", async () => {
  await using deps = await testDeps();
  const res = await createApp(deps).request("/");
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/admin/");
});

Deno.test("adminCall helper sees no-store on every admin answer", async () => {
  await using deps = await testDeps();
  const app = createApp(deps);
  for (
    const [method, path] of [["GET", "/admin/keys"], ["GET", "/admin/audit"], ["GET", "/admin/x"]]
  ) {
    const res = await adminCall(app, deps, method!, path!);
    assert.equal(res.headers.get("cache-control"), "no-store", path);
  }
});

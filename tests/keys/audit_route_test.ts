import assert from "node:assert/strict";
import { testDeps } from "../support/test_deps.ts";
import { createApp } from "../../src/app.ts";
import { appendAudit } from "../../src/audit.ts";
import { adminCall } from "./helpers.ts";

Deno.test("GET /admin/audit pages newest first with a cursor", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  for (let i = 0; i < 7; i++) {
    await appendAudit(deps, { action: "key.created", actor: "admin", target: `k${i}` });
    deps.clock.advance(1000);
  }

  await t.step("limit 3 gives the three newest and a cursor", async () => {
    const first = await adminCall(app, deps, "GET", "/admin/audit?limit=3");
    assert.equal(first.status, 200);
    const targets = (first.json.entries as { target: string }[]).map((e) => e.target);
    assert.deepEqual(targets, ["k6", "k5", "k4"]);
    assert.equal(typeof first.json.cursor, "string");

    const second = await adminCall(
      app,
      deps,
      "GET",
      `/admin/audit?limit=3&cursor=${encodeURIComponent(first.json.cursor as string)}`,
    );
    assert.deepEqual((second.json.entries as { target: string }[]).map((e) => e.target), [
      "k3",
      "k2",
      "k1",
    ]);
    const third = await adminCall(
      app,
      deps,
      "GET",
      `/admin/audit?limit=3&cursor=${encodeURIComponent(second.json.cursor as string)}`,
    );
    assert.deepEqual((third.json.entries as { target: string }[]).map((e) => e.target), ["k0"]);
    assert.equal(third.json.cursor, null);
  });

  await t.step("the default limit is 50", async () => {
    const all = await adminCall(app, deps, "GET", "/admin/audit");
    assert.equal((all.json.entries as unknown[]).length, 7);
    assert.equal(all.json.cursor, null);
  });

  for (const query of ["limit=0", "limit=201", "limit=abc", "cursor=zzz", "other=1"]) {
    await t.step(`?${query} is a 400 naming the parameter`, async () => {
      const res = await adminCall(app, deps, "GET", `/admin/audit?${query}`);
      assert.equal(res.status, 400);
      const name = query.split("=")[0]!;
      assert.match((res.json.error as { message: string }).message, new RegExp(name));
    });
  }

  await t.step("without the admin token it is 401", async () => {
    const res = await app.request("/admin/audit");
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });
});

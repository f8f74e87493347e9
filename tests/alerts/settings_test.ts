/**
 * The alert settings through the admin API: defaults, a full update, bad
 * input refused with nothing changed, the signing secret sealed at rest and
 * never shown (answers, audit, logs), and the test alert against a real
 * receiver that checks the signature.
 */
import assert from "node:assert/strict";
import { createApp } from "../../src/app.ts";
import { keys } from "../../src/kv/keys.ts";
import { listAudit } from "../../src/audit.ts";
import { testDeps } from "../support/test_deps.ts";
import { adminCall } from "../keys/helpers.ts";
import { startReceiver } from "./receiver.ts";

const SECRET = "whsec-settings-test-0123456789abcdef";

Deno.test("alert settings: admin API, validation, sealed secret, test alert", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  await using receiver = await startReceiver({ secret: SECRET, now: deps.now });
  const call = (method: string, path: string, body?: unknown) =>
    adminCall(app, deps, method, path, body);

  await t.step("off by default: no URL, every event on, 80 % thresholds", async () => {
    const res = await call("GET", "/admin/alerts");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.deepEqual(res.json, {
      alerts: {
        url: null,
        secretSet: false,
        events: { needsLogin: true, quota: true, keyTokens: true, backupFailed: true },
        quotaThresholdPercent: 80,
        keyTokensThresholdPercent: 80,
        updatedAt: null,
      },
    });
  });

  await t.step("the test alert needs a URL first (409)", async () => {
    const res = await call("POST", "/admin/alerts/test");
    assert.equal(res.status, 409);
    assert.equal((res.json.error as { code: string }).code, "alerts_not_configured");
    assert.equal(receiver.deliveries.length, 0);
  });

  await t.step("a full update is stored and answered without the secret", async () => {
    const res = await call("PATCH", "/admin/alerts", {
      url: receiver.url,
      secret: SECRET,
      events: { backupFailed: false },
      quotaThresholdPercent: 90,
      keyTokensThresholdPercent: 75,
    });
    assert.equal(res.status, 200);
    // Only the origin is answered: the path ("/hooks/kleis") could hold a token.
    assert.equal(new URL(receiver.url).pathname, "/hooks/kleis");
    assert.deepEqual(res.json, {
      alerts: {
        url: `${new URL(receiver.url).origin}/***`,
        secretSet: true,
        events: { needsLogin: true, quota: true, keyTokens: true, backupFailed: false },
        quotaThresholdPercent: 90,
        keyTokensThresholdPercent: 75,
        updatedAt: deps.now(),
      },
    });
    const stored = await deps.kv.get(keys.alertSettings());
    assert.ok(!JSON.stringify(stored.value).includes(SECRET), "the secret is sealed at rest");
    assert.match(JSON.stringify(stored.value), /"sealedSecret":"v1\./);
    const { entries } = await listAudit(deps.kv, { limit: 5 });
    assert.equal(entries[0]!.action, "alerts.updated");
    assert.equal(entries[0]!.details!.url, new URL(receiver.url).origin);
    assert.equal(entries[0]!.details!.secretSet, true);
  });

  await t.step("bad input is refused with a clear 400 and changes nothing", async () => {
    const before = await deps.kv.get(keys.alertSettings());
    const auditBefore = (await listAudit(deps.kv, { limit: 100 })).entries.length;
    const cases: [unknown, RegExp][] = [
      [{ url: "ftp://example.com/hook" }, /"url".*http or https/],
      [{ url: "not a url" }, /"url".*absolute http or https URL/],
      [{ url: "https://user:pw@example.com/hook" }, /"url".*user name or password/],
      [{ url: "https://example.com/hook#x" }, /"url".*fragment/],
      [{ secret: "short" }, /"secret"/],
      [{ secret: "has spaces in it but is long" }, /"secret".*printable ASCII/],
      [{ quotaThresholdPercent: 0 }, /"quotaThresholdPercent"/],
      [{ keyTokensThresholdPercent: 101 }, /"keyTokensThresholdPercent"/],
      [{ keyTokensThresholdPercent: 50.5 }, /"keyTokensThresholdPercent"/],
      [{ events: { quota: "yes" } }, /"events.quota"/],
      [{ events: { unknown: true } }, /Unknown field "events.unknown"/],
      [{ enabled: true }, /Unknown field "enabled"/],
      [[], /request body/],
    ];
    for (const [body, message] of cases) {
      const res = await call("PATCH", "/admin/alerts", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const error = res.json.error as { code: string; message: string };
      assert.equal(error.code, "invalid_request", JSON.stringify(body));
      assert.match(error.message, message);
    }
    const raw = await app.request("/admin/alerts", {
      method: "PATCH",
      headers: { authorization: `Bearer ${deps.config.adminToken}` },
      body: "{not json",
    });
    assert.equal(raw.status, 400);
    assert.equal((await raw.json()).error.code, "invalid_json");
    const after = await deps.kv.get(keys.alertSettings());
    assert.equal(after.versionstamp, before.versionstamp);
    assert.equal((await listAudit(deps.kv, { limit: 100 })).entries.length, auditBefore);
  });

  await t.step("the admin token is required", async () => {
    const res = await app.request("/admin/alerts");
    assert.equal(res.status, 401);
  });

  await t.step("the test alert reaches the receiver, signed; the answer says so", async () => {
    deps.clock.advance(1_000);
    const res = await call("POST", "/admin/alerts/test");
    assert.equal(res.status, 200);
    assert.equal(res.json.delivered, true);
    assert.equal(res.json.status, 204);
    assert.equal(receiver.deliveries.length, 1);
    const d = receiver.deliveries[0]!;
    assert.equal(d.signatureValid, true);
    assert.equal(d.headers.get("content-type"), "application/json");
    assert.equal(d.headers.get("x-kleis-event"), "alert.test");
    assert.equal(d.headers.get("x-kleis-delivery"), res.json.id);
    assert.equal(d.body.id, res.json.id);
    assert.equal(d.body.type, "alert.test");
    assert.equal(d.body.time, new Date(deps.now()).toISOString());
    assert.deepEqual(d.body.subject, { kind: "kleis", id: "kleis" });
    const { entries } = await listAudit(deps.kv, { limit: 1 });
    assert.equal(entries[0]!.action, "alert.sent");
    assert.equal(entries[0]!.actor, "admin");
    assert.equal(entries[0]!.details!.alertId, res.json.id);
  });

  await t.step("a signature made with another secret does not verify at the receiver", async () => {
    await using other = await startReceiver({
      secret: "a-different-secret-0123456789",
      now: deps.now,
    });
    await call("PATCH", "/admin/alerts", { url: other.url });
    await call("POST", "/admin/alerts/test");
    assert.equal(other.deliveries[0]!.signatureValid, false);
    await call("PATCH", "/admin/alerts", { url: receiver.url });
  });

  await t.step(
    "a receiver that refuses: delivered false, its status, audited as failed",
    async () => {
      await using refusing = await startReceiver({ answer: () => 500 });
      await call("PATCH", "/admin/alerts", { url: refusing.url });
      const res = await call("POST", "/admin/alerts/test");
      assert.equal(res.status, 200);
      assert.equal(res.json.delivered, false);
      assert.equal(res.json.status, 500);
      assert.match(String(res.json.error), /HTTP 500/);
      const { entries } = await listAudit(deps.kv, { limit: 1 });
      assert.equal(entries[0]!.action, "alert.failed");
      await call("PATCH", "/admin/alerts", { url: receiver.url });
    },
  );

  await t.step("no signature header without a secret; null removes the secret", async () => {
    const res = await call("PATCH", "/admin/alerts", { secret: null });
    assert.equal((res.json.alerts as { secretSet: boolean }).secretSet, false);
    const sent = await call("POST", "/admin/alerts/test");
    assert.equal(sent.json.delivered, true);
    assert.equal(receiver.deliveries.at(-1)!.signatureValid, undefined);
    assert.equal(receiver.deliveries.at(-1)!.headers.has("x-kleis-signature"), false);
    await call("PATCH", "/admin/alerts", { secret: SECRET });
  });

  await t.step("url null turns alerts off and keeps the rest", async () => {
    const res = await call("PATCH", "/admin/alerts", { url: null });
    const view = res.json.alerts as { url: string | null; secretSet: boolean };
    assert.equal(view.url, null);
    assert.equal(view.secretSet, true);
  });

  await t.step("the secret is in no answer, audit entry or log line", async () => {
    const everything = JSON.stringify([
      (await call("GET", "/admin/alerts")).json,
      (await call("GET", "/admin/audit?limit=100")).json,
      deps.logLines,
    ]);
    assert.ok(!everything.includes(SECRET));
    assert.ok(!everything.includes(SECRET.slice(6, 20)));
    assert.ok(!everything.includes("/hooks/kleis"), "nor the webhook URL's path");
  });
});

/**
 * Delivery: one alert however many instances raise it, retries with the
 * queue after a receiver fails, giving up after the bound, the same without
 * queues (Deno Deploy), no redirects followed, a timeout, and every outcome
 * in the audit log.
 */
import assert from "node:assert/strict";
import { keys } from "../../src/kv/keys.ts";
import { listAudit } from "../../src/audit.ts";
import { markNeedsLogin } from "../../src/accounts/refresh.ts";
import { QuotaRecorder } from "../../src/proxy/quota_headroom.ts";
import { startUsageConsumer } from "../../src/usage/consumer.ts";
import { ALERT_TUNING } from "../../src/alerts/delivery.ts";
import { alertBackupFailed, alertKeyTokens, alertQuota } from "../../src/alerts/events.ts";
import { updateAlertSettings } from "../../src/alerts/settings.ts";
import type { AlertDelivery } from "../../src/alerts/types.ts";
import type { AccountRecord } from "../../src/model/accounts.ts";
import type { Deps } from "../../src/deps.ts";
import { type TestDeps, testDeps } from "../support/test_deps.ts";
import { hangingServer } from "../support/hanging_server.ts";
import { twoInstances } from "../support/two_instances.ts";
import { startReceiver } from "./receiver.ts";

const SECRET = "whsec-delivery-test-0123456789abcdef";

function account(id: string, label: string): AccountRecord {
  return {
    id,
    provider: "codex",
    externalId: `ext-${id}`,
    label,
    enabled: true,
    priority: 0,
    createdAt: 0,
    updatedAt: 0,
    meta: {},
  };
}

async function deliveries(kv: Deno.Kv): Promise<AlertDelivery[]> {
  const out: AlertDelivery[] = [];
  for await (const e of kv.list<AlertDelivery>({ prefix: ["alert_delivery"] })) out.push(e.value);
  return out;
}

/** Waits until every delivery record is done (sent or failed), bounded. */
async function allDone(deps: TestDeps, timeoutMs = 20_000): Promise<AlertDelivery[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await deps.runtime.settled();
    const all = await deliveries(deps.kv);
    if (all.length > 0 && all.every((d) => d.state !== "pending")) return all;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`deliveries still pending: ${JSON.stringify(await deliveries(deps.kv))}`);
}

/** Starts the app's queue listener; the returned function closes the KV (the test's own) and waits for it. */
function listen(deps: Deps): () => Promise<void> {
  const consumer = startUsageConsumer(deps).catch(() => {});
  return async () => {
    deps.kv.close();
    await consumer;
  };
}

async function alertAudit(kv: Deno.Kv) {
  const { entries } = await listAudit(kv, { limit: 100 });
  return entries.filter((e) => e.action === "alert.sent" || e.action === "alert.failed");
}

Deno.test("two instances on one KV file raising the same events send one alert each", async () => {
  const pair = await twoInstances();
  await using receiver = await startReceiver({ secret: SECRET, now: pair.a.now });
  const stopA = startUsageConsumer(pair.a).catch(() => {});
  const stopB = startUsageConsumer(pair.b).catch(() => {});
  try {
    await updateAlertSettings(pair.a, { url: receiver.url, secret: SECRET });
    await pair.a.kv.set(keys.account("acct_1"), account("acct_1", "Team Codex"));
    const window = { name: "5h", usedFraction: 0.91, resetsAt: pair.a.now() + 3_600_000 };
    // Both instances see the same failure and the same quota reading at once, twice over.
    await Promise.all([
      markNeedsLogin(pair.a, "acct_1", "refresh token revoked"),
      markNeedsLogin(pair.b, "acct_1", "refresh token revoked"),
      new QuotaRecorder(pair.a).record("acct_1", () => ({ windows: [window], headers: {} })),
      new QuotaRecorder(pair.b).record("acct_1", () => ({ windows: [window], headers: {} })),
      markNeedsLogin(pair.a, "acct_1", "refresh token revoked"),
      new QuotaRecorder(pair.b).record("acct_1", () => ({ windows: [window], headers: {} })),
    ]);
    await receiver.waitFor(() => true, 2);
    await pair.a.runtime.settled();
    await pair.b.runtime.settled();
    const records = await allDone(pair.a);
    assert.deepEqual(records.map((d) => d.body.type).sort(), [
      "account.needs_login",
      "account.quota",
    ]);
    assert.ok(records.every((d) => d.state === "sent" && d.attempts === 1));
    assert.equal(receiver.deliveries.length, 2);
    assert.ok(receiver.deliveries.every((d) => d.signatureValid === true));
    assert.equal((await alertAudit(pair.a.kv)).length, 2);
  } finally {
    await pair[Symbol.asyncDispose](); // closes both KV handles, which ends both listeners
    await stopA;
    await stopB;
  }
});

Deno.test("a late reading of an earlier period, or a reset time a little off, alerts nothing", async () => {
  const pair = await twoInstances();
  await using receiver = await startReceiver();
  const stopA = startUsageConsumer(pair.a).catch(() => {});
  const stopB = startUsageConsumer(pair.b).catch(() => {});
  try {
    const { a, b } = pair;
    await updateAlertSettings(a, { url: receiver.url });
    const reset = a.now() + 3_600_000;
    const window = (
      usedFraction: number,
      resetsAt: number,
    ) => [{ name: "5h", usedFraction, resetsAt }];
    // Instance a alerts the window; b has no memory of it and must find it in KV.
    alertQuota(a, "acct_1", window(0.9, reset));
    await allDone(a);
    // The usage endpoint gives the same window's reset 30 s off; a stale reading of the
    // window before; then the next window.
    alertQuota(b, "acct_1", window(0.95, reset + 30_000));
    alertQuota(b, "acct_1", window(0.99, reset - 5 * 3_600_000));
    await b.runtime.settled();
    assert.equal((await deliveries(a.kv)).length, 1);
    alertQuota(b, "acct_1", window(0.85, reset + 5 * 3_600_000));
    await b.runtime.settled();

    // Key tokens: today's alert, then a redelivered batch of yesterday's usage.
    const today = new Date(a.now()).toISOString().slice(0, 10);
    const yesterday = new Date(a.now() - 86_400_000).toISOString().slice(0, 10);
    await a.kv.set(keys.apiKey("key_1"), {
      id: "key_1",
      label: "Agent",
      limits: { tokensPerDay: 100 },
    });
    await a.kv.set(keys.tokensInDay("key_1", today), new Deno.KvU64(90n));
    await a.kv.set(keys.tokensInDay("key_1", yesterday), new Deno.KvU64(95n));
    alertKeyTokens(a, [{ keyId: "key_1", day: today }]);
    await a.runtime.settled();
    alertKeyTokens(b, [{ keyId: "key_1", day: yesterday }]);
    await b.runtime.settled();

    const records = await allDone(a);
    assert.deepEqual(
      records.map((d) => [d.body.type, d.body.details.resetsAt ?? d.body.details.day]).sort(),
      [
        ["account.quota", new Date(reset).toISOString()],
        ["account.quota", new Date(reset + 5 * 3_600_000).toISOString()],
        ["key.tokens", today],
      ],
    );
    await receiver.waitFor(() => true, 3);
  } finally {
    await pair[Symbol.asyncDispose]();
    await stopA;
    await stopB;
  }
});

Deno.test("a failing receiver is retried through the queue until it accepts", async () => {
  await using deps = await testDeps({ kv: await Deno.openKv(":memory:") });
  deps.runtime.get(ALERT_TUNING).retryDelaysMs = [50, 50, 50];
  // Fails twice, then accepts.
  await using receiver = await startReceiver({
    secret: SECRET,
    now: deps.now,
    answer: (n) => (n <= 2 ? 500 : 200),
  });
  const stop = listen(deps);
  try {
    await updateAlertSettings(deps, { url: receiver.url, secret: SECRET });
    alertBackupFailed(deps, {
      at: deps.now(),
      target: "dir:/backups",
      attempts: 3,
      error: "EACCES",
    });
    const [record] = await allDone(deps);
    assert.equal(record!.state, "sent");
    assert.equal(record!.attempts, 3);
    assert.equal(receiver.deliveries.length, 3);
    // Every attempt carries the same alert; each is signed.
    assert.equal(new Set(receiver.deliveries.map((d) => d.text)).size, 1);
    assert.ok(receiver.deliveries.every((d) => d.signatureValid === true));
    assert.equal(
      new Set(receiver.deliveries.map((d) => d.headers.get("x-kleis-delivery"))).size,
      1,
    );
    const audit = await alertAudit(deps.kv);
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.action, "alert.sent");
    assert.equal(audit[0]!.details!.attempts, 3);
    assert.equal(audit[0]!.details!.type, "backup.failed");
  } finally {
    await stop();
  }
});

Deno.test("a receiver that keeps failing gets the bounded attempts, then alert.failed", async () => {
  await using deps = await testDeps({ kv: await Deno.openKv(":memory:") });
  deps.runtime.get(ALERT_TUNING).retryDelaysMs = [30, 30];
  await using receiver = await startReceiver({ answer: () => 503 });
  const stop = listen(deps);
  try {
    await updateAlertSettings(deps, { url: receiver.url });
    alertBackupFailed(deps, { at: deps.now(), target: "dir:/backups", attempts: 1 });
    const [record] = await allDone(deps);
    assert.equal(record!.state, "failed");
    assert.equal(record!.attempts, 3);
    assert.equal(record!.lastStatus, 503);
    assert.equal(receiver.deliveries.length, 3);
    const audit = await alertAudit(deps.kv);
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.action, "alert.failed");
    assert.equal(audit[0]!.details!.attempts, 3);
    assert.match(String(audit[0]!.details!.error), /HTTP 503/);
    assert.equal(audit[0]!.target, "dir:/backups");
  } finally {
    await stop();
  }
});

Deno.test("without KV queues (Deno Deploy) the raising instance retries itself", async () => {
  await using deps = await testDeps({ config: { onDeploy: true } });
  deps.runtime.get(ALERT_TUNING).retryDelaysMs = [30, 30];
  await using receiver = await startReceiver({ answer: (n) => (n === 1 ? 502 : 204) });
  await updateAlertSettings(deps, { url: receiver.url });
  alertBackupFailed(deps, { at: deps.now(), target: "s3:bucket", attempts: 1 });
  const [record] = await allDone(deps);
  assert.equal(record!.state, "sent");
  assert.equal(record!.attempts, 2);
  assert.equal(receiver.deliveries.length, 2);
  assert.equal((await alertAudit(deps.kv))[0]!.action, "alert.sent");
});

Deno.test("redirects are not followed and a silent receiver times out", async (t) => {
  await using deps = await testDeps({ config: { onDeploy: true } });
  const tuning = deps.runtime.get(ALERT_TUNING);
  tuning.retryDelaysMs = [];
  tuning.timeoutMs = 300;

  await t.step("a 307 to another address sends nothing there", async () => {
    await using elsewhere = await startReceiver();
    await using redirecting = await startReceiver({
      answer: () => new Response(null, { status: 307, headers: { location: elsewhere.url } }),
    });
    await updateAlertSettings(deps, { url: redirecting.url, secret: SECRET });
    alertBackupFailed(deps, { at: deps.now(), target: "dir:/a", attempts: 1 });
    const [record] = await allDone(deps);
    assert.equal(record!.state, "failed");
    assert.equal(record!.lastStatus, 307);
    assert.match(record!.lastError!, /redirects are not followed/);
    assert.equal(redirecting.deliveries.length, 1);
    assert.equal(elsewhere.deliveries.length, 0);
  });

  await t.step("no answer within the timeout is a failed attempt", async () => {
    await using hung = hangingServer();
    await updateAlertSettings(deps, { url: `${hung.url}/hook` });
    deps.clock.advance(2 * 24 * 3_600_000); // a new day: the backup alert is due again
    alertBackupFailed(deps, { at: deps.now(), target: "dir:/a", attempts: 1 });
    const records = await allDone(deps);
    const last = records.find((d) => d.body.time === new Date(deps.now()).toISOString())!;
    assert.equal(last.state, "failed");
    assert.match(last.lastError!, /no answer within 300 ms/);
  });

  await t.step("no URL, no secret, no answer, nothing in the logs leaks the secret", () => {
    assert.ok(!deps.logLines.join("\n").includes(SECRET));
  });
});

/**
 * The four alert events raised end to end by the code that sees them, with
 * the backend fakes, the real app (key middleware, proxy, usage queue and
 * its listener, admin routes), an injected clock and a real receiver that
 * checks every signature:
 *
 * - key.tokens: proxied requests whose usage, once ingested, reaches the
 *   share of the key's tokensPerDay (once per key and day);
 * - account.quota: the Codex fake's quota headers cross the threshold (once
 *   per window until it resets);
 * - account.needs_login: a refresh refused for good (once until the account
 *   is logged in again);
 * - backup.failed: the scheduled backup job against a target that fails.
 */
import assert from "node:assert/strict";
import { createApp } from "../../src/app.ts";
import { listAudit } from "../../src/audit.ts";
import { saveLogin } from "../../src/accounts/repository.ts";
import { FORCE_DEBOUNCE_MS, type RefreshDeps } from "../../src/accounts/refresh.ts";
import { scheduledBackupJob } from "../../src/backup/scheduled.ts";
import { QUOTA_WRITE_INTERVAL_MS } from "../../src/proxy/quota_headroom.ts";
import { startUsageConsumer } from "../../src/usage/consumer.ts";
import { flushUsage } from "../../src/usage/record.ts";
import { tokensUsedOn } from "../../src/usage/token_budget.ts";
import type { AlertDelivery } from "../../src/alerts/types.ts";
import { startAllFakes } from "../fakes/mod.ts";
import { FAST_TUNING, upstreamOf } from "../accounts/helpers.ts";
import { NO_WAIT, withBackup } from "../backup/helpers.ts";
import { adminCall } from "../keys/helpers.ts";
import { testDeps } from "../support/test_deps.ts";
import { startReceiver } from "./receiver.ts";

const SECRET = "whsec-events-test-0123456789abcdef";

Deno.test({
  name: "each alert event is raised once by the real code path and reaches the receiver",
  async fn(t) {
    const fakes = await startAllFakes();
    const kv = await Deno.openKv(":memory:");
    const deps = await testDeps({ kv, config: { upstream: upstreamOf(fakes) } }) as
      & Awaited<ReturnType<typeof testDeps>>
      & RefreshDeps;
    deps.refreshTuning = FAST_TUNING;
    fakes.world.now = deps.clock.now;
    const consumer = startUsageConsumer(deps).catch(() => {});
    const app = createApp(deps);
    const receiver = await startReceiver({ secret: SECRET, now: deps.now });
    const admin = (method: string, path: string, body?: unknown) =>
      adminCall(app, deps, method, path, body);

    /** Records of one alert type, once background work and the queue have settled. */
    const recordsOf = async (type: string) => {
      await flushUsage(deps);
      await deps.runtime.settled();
      const out: AlertDelivery[] = [];
      for await (const e of kv.list<AlertDelivery>({ prefix: ["alert_delivery"] })) {
        if (e.value.body.type === type) out.push(e.value);
      }
      return out;
    };

    try {
      const settings = await admin("PATCH", "/admin/alerts", {
        url: receiver.url,
        secret: SECRET,
        keyTokensThresholdPercent: 50,
        quotaThresholdPercent: 80,
      });
      assert.equal(settings.status, 200);

      const created = await admin("POST", "/admin/keys", {
        label: "Agent A",
        limits: { tokensPerDay: 1000 },
      });
      assert.equal(created.status, 201);
      const keyId = (created.json.key as { id: string }).id;
      const keySecret = created.json.secret as string;

      const resetAt = Math.floor(deps.now() / 1000) + 7200;
      fakes.chatgpt.setQuota({
        primaryUsedPercent: 12,
        primaryResetAt: resetAt,
        secondaryResetAt: resetAt + 86400,
      });
      /** A Codex login (the same identity each time: a repeated login updates the account). */
      const login = async () => {
        const tokens = fakes.world.issueCodexTokens({ accountId: "chatgpt-alerts" });
        const { account } = await saveLogin(deps, "codex", {
          tokens: {
            accessToken: tokens.access_token,
            refreshToken: tokens.refresh_token,
            expiresAt: deps.now() + tokens.expires_in * 1000,
          },
          identity: { externalId: "chatgpt-alerts", label: "Team Codex" },
        }, { source: "test" });
        return { account, tokens };
      };
      const { account, tokens: issued } = await login();

      const ask = async () => {
        const res = await app.request("/openai/v1/responses", {
          method: "POST",
          headers: { authorization: `Bearer ${keySecret}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "gpt-5.5", input: "hello" }),
        });
        await res.arrayBuffer();
        assert.equal(res.status, 200);
      };
      const tokensReach = async (total: number) => {
        for (let i = 0; i < 1000; i++) {
          await flushUsage(deps);
          if (await tokensUsedOn(kv, keyId, deps.now()) >= total) return;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error(`tokens never reached ${total}`);
      };

      await t.step(
        "key.tokens: 35 % of tokensPerDay raises nothing, 70 % raises one alert",
        async () => {
          fakes.chatgpt.setUsage({ input_tokens: 300, output_tokens: 50 });
          await ask();
          await tokensReach(350);
          assert.deepEqual(await recordsOf("key.tokens"), []);
          await ask();
          const [d] = await receiver.waitFor((d) => d.body.type === "key.tokens");
          assert.equal(d!.signatureValid, true);
          assert.deepEqual(d!.body.subject, { kind: "key", id: keyId, label: "Agent A" });
          assert.deepEqual(d!.body.details, {
            day: new Date(deps.now()).toISOString().slice(0, 10),
            tokensUsed: 700,
            tokensPerDay: 1000,
            usedPercent: 70,
            thresholdPercent: 50,
          });
          assert.match(d!.body.summary, /Agent A has used 70 % of its 1000 tokens/);
          // Past the limit the same day: still the one alert.
          await ask();
          await tokensReach(1050);
          assert.equal((await recordsOf("key.tokens")).length, 1);
          assert.equal(receiver.of("key.tokens").length, 1);
          // The quota stayed at 12 %: no quota alert.
          assert.deepEqual(await recordsOf("account.quota"), []);
        },
      );

      await t.step(
        "account.quota: the window crossing 80 % raises one alert per reset",
        async () => {
          await admin("PATCH", `/admin/keys/${keyId}`, { limits: {} });
          fakes.chatgpt.setQuota({ primaryUsedPercent: 85 });
          deps.clock.advance(QUOTA_WRITE_INTERVAL_MS + 1_000);
          await ask();
          const [d] = await receiver.waitFor((d) => d.body.type === "account.quota");
          assert.equal(d!.signatureValid, true);
          assert.deepEqual(d!.body.subject, {
            kind: "account",
            id: account.id,
            label: "Team Codex",
            provider: "codex",
          });
          assert.equal(d!.body.details.usedPercent, 85);
          assert.equal(d!.body.details.thresholdPercent, 80);
          assert.equal(d!.body.details.resetsAt, new Date(resetAt * 1000).toISOString());
          // Still above the threshold a minute later, same window: nothing new.
          deps.clock.advance(QUOTA_WRITE_INTERVAL_MS + 1_000);
          await ask();
          assert.equal((await recordsOf("account.quota")).length, 1);
          // The window reset and filled up again: a new alert.
          fakes.chatgpt.setQuota({ primaryUsedPercent: 95, primaryResetAt: resetAt + 18000 });
          deps.clock.advance(QUOTA_WRITE_INTERVAL_MS + 1_000);
          await ask();
          const both = await receiver.waitFor((d) => d.body.type === "account.quota", 2);
          assert.equal(both[1]!.body.details.usedPercent, 95);
          assert.equal((await recordsOf("account.quota")).length, 2);
        },
      );

      await t.step(
        "account.needs_login: a refused refresh raises one alert until a new login",
        async () => {
          fakes.world.revoke(issued.refresh_token);
          const refreshed = await admin("POST", `/admin/accounts/${account.id}/refresh`);
          assert.notEqual(refreshed.status, 200);
          const [d] = await receiver.waitFor((d) => d.body.type === "account.needs_login");
          assert.equal(d!.signatureValid, true);
          assert.equal(d!.body.subject.id, account.id);
          assert.equal(d!.body.subject.label, "Team Codex");
          assert.equal(typeof d!.body.details.reason, "string");
          // Asking again changes nothing while the account waits for its login.
          await admin("POST", `/admin/accounts/${account.id}/refresh`);
          assert.equal((await recordsOf("account.needs_login")).length, 1);
          // Logged in again, then refused again: a new alert.
          const { tokens: again } = await login();
          fakes.world.revoke(again.refresh_token);
          // Past the window in which a forced refresh takes just-written tokens as they are.
          deps.clock.advance(FORCE_DEBOUNCE_MS + 1_000);
          await admin("POST", `/admin/accounts/${account.id}/refresh`);
          await receiver.waitFor((d) => d.body.type === "account.needs_login", 2);
          assert.equal((await recordsOf("account.needs_login")).length, 2);
        },
      );

      await t.step(
        "backup.failed: the scheduled job against a failing target raises one alert",
        async () => {
          const blocker = await Deno.makeTempFile({ prefix: "kleis-alerts-not-a-dir-" });
          try {
            const backupDeps = withBackup(deps, {
              target: { kind: "dir", path: `${blocker}/backups` },
            });
            await scheduledBackupJob(backupDeps, NO_WAIT)();
            const [d] = await receiver.waitFor((d) => d.body.type === "backup.failed");
            assert.equal(d!.signatureValid, true);
            assert.equal(d!.body.subject.kind, "backup");
            assert.equal(d!.body.details.attempts, 1);
            assert.equal(d!.body.details.consecutiveFailures, 1);
            assert.equal(typeof d!.body.details.error, "string");
            // The same day, failing again: no second alert.
            await scheduledBackupJob(backupDeps, NO_WAIT)();
            assert.equal((await recordsOf("backup.failed")).length, 1);
          } finally {
            await Deno.remove(blocker);
          }
        },
      );

      await t.step(
        "every delivery is audited; no secret reached the receiver or the logs",
        async () => {
          const { entries } = await listAudit(kv, { limit: 200 });
          const sent = entries.filter((e) => e.action === "alert.sent");
          assert.equal(sent.length, receiver.deliveries.length);
          assert.equal(receiver.deliveries.length, 6);
          const seen = receiver.deliveries.map((d) => d.text).join("\n") + deps.logLines.join("\n");
          for (const secret of [SECRET, keySecret, issued.access_token, issued.refresh_token]) {
            assert.ok(!seen.includes(secret));
          }
        },
      );
    } finally {
      await deps.runtime.settled();
      await receiver.close();
      await fakes.close();
      kv.close();
      await consumer;
    }
  },
});

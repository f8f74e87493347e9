import assert from "node:assert/strict";
import { Hono } from "hono";
import { adminUsageRoutes } from "../../routes/admin_usage.ts";
import type { AppEnv } from "../../src/app_env.ts";
import type { Deps } from "../../src/deps.ts";
import { errorResponse, KleisError } from "../../src/errors.ts";
import { flushUsage, recordUsage } from "../../src/usage/record.ts";
import { startUsageConsumer } from "../../src/usage/consumer.ts";
import type { UsageAnswer } from "../../src/usage/query.ts";
import { testDeps } from "../support/test_deps.ts";
import {
  ACCOUNTS,
  expectedCounters,
  expectedGroups,
  KEY_IDS,
  seedKeysAndAccounts,
  syntheticEvents,
  waitForRequests,
} from "./helpers.ts";

const HOUR = 3_600_000;

/**
 * The usage routes as routes/admin.ts mounts them, with the app's error
 * mapping (admin auth itself is routes/admin.ts's and tested there).
 */
function createApp(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.route("/admin", adminUsageRoutes(deps));
  app.onError((error) => {
    if (error instanceof KleisError) return errorResponse("kleis", error);
    throw error;
  });
  return app;
}
const DAY = 24 * HOUR;

Deno.test("1000 recorded requests across 3 keys and 2 accounts give exact totals in every grouping", async (t) => {
  // The test owns the KV: closing it is what stops the queue listener.
  const kv = await Deno.openKv(":memory:");
  await using deps = await testDeps({ kv });
  await seedKeysAndAccounts(deps.kv);
  const consumer = startUsageConsumer(deps);
  const app = createApp(deps);
  const admin = { Authorization: `Bearer ${deps.config.adminToken}` };
  const get = async (path: string) => {
    const response = await app.request(path, { headers: admin });
    assert.equal(response.status, 200, await response.clone().text());
    return await response.json() as UsageAnswer;
  };

  // Spread over 50 minutes (minute buckets only) and, for a second run, over 3 days.
  const recent = syntheticEvents(1000, deps.now(), 50 * 60_000);
  await Promise.all(recent.map((e) => recordUsage(deps, e)));
  await flushUsage(deps);
  await waitForRequests(deps, 1000, HOUR);

  await t.step("totals and the series add up to the events", async () => {
    const answer = await get(`/admin/usage?windowMs=${HOUR}`);
    assert.equal(answer.windowMs, HOUR);
    assert.equal(answer.bucketMs, 60_000);
    assert.equal(answer.until - answer.since, HOUR);
    assert.deepEqual(answer.totals, expectedCounters(recent));
    assert.equal(answer.previous.requests, 0);
    assert.equal(answer.series.length, 60);
    assert.ok(
      answer.series.every((p, i) => i === 0 || p.start - answer.series[i - 1]!.start === 60_000),
    );
    assert.equal(answer.series.reduce((s, p) => s + p.requests, 0), 1000);
    assert.equal(answer.series.reduce((s, p) => s + p.outputTokens, 0), answer.totals.outputTokens);
    assert.equal(answer.groups, undefined);
  });

  const groupings = {
    key: (e: (typeof recent)[number]) => e.keyId ?? "",
    account: (e: (typeof recent)[number]) => e.accountId ?? "",
    provider: (e: (typeof recent)[number]) => e.provider ?? "",
    model: (e: (typeof recent)[number]) => e.model ?? "",
    endpoint: (e: (typeof recent)[number]) => e.endpoint,
  };
  for (const [groupBy, by] of Object.entries(groupings)) {
    await t.step(`groupBy=${groupBy} gives each group's exact counters`, async () => {
      const answer = await get(`/admin/usage?windowMs=${HOUR}&groupBy=${groupBy}`);
      const expected = expectedGroups(recent, by);
      assert.equal(answer.groups?.length, expected.size);
      for (const group of answer.groups ?? []) {
        const { key, label, ...counters } = group;
        assert.deepEqual(counters, expected.get(key), `group ${key}`);
        if (groupBy === "key") assert.equal(label, `Label ${key}`);
        if (groupBy === "account") assert.equal(label, `Acct ${key}`);
        if (groupBy === "model") assert.equal(label, key);
      }
    });
  }

  await t.step(
    "per-key and per-account routes answer that key's or account's events only",
    async () => {
      for (const id of KEY_IDS) {
        const answer = await get(`/admin/keys/${id}/usage?windowMs=${HOUR}`);
        assert.deepEqual(answer.totals, expectedCounters(recent.filter((e) => e.keyId === id)));
      }
      for (const { id } of ACCOUNTS) {
        const answer = await get(`/admin/accounts/${id}/usage?windowMs=${HOUR}&groupBy=key`);
        const mine = recent.filter((e) => e.accountId === id);
        assert.deepEqual(answer.totals, expectedCounters(mine));
        assert.equal(answer.groups?.length, 3);
      }
    },
  );

  await t.step("the window before shows up as previous, not in totals", async () => {
    deps.clock.advance(HOUR);
    const answer = await get(`/admin/usage?windowMs=${HOUR}`);
    assert.equal(answer.totals.requests, 0);
    assert.deepEqual(answer.previous, expectedCounters(recent));
    deps.clock.advance(-HOUR);
  });

  await t.step("multi-day windows read hour rollups and stay exact", async () => {
    // Second batch over the 3 days before the first, so long windows mix hours and edge minutes.
    const older = syntheticEvents(1000, deps.now() - 50 * 60_000, 3 * DAY, "old");
    await Promise.all(older.map((e) => recordUsage(deps, e)));
    await flushUsage(deps);
    await waitForRequests(deps, 2000, 7 * DAY);
    const all = [...recent, ...older];
    const week = await get(`/admin/usage?windowMs=${7 * DAY}&groupBy=model`);
    assert.equal(week.bucketMs, HOUR);
    assert.equal(week.series.length, 7 * 24 + 1); // since is not on an hour: one partial slot more
    assert.deepEqual(week.totals, expectedCounters(all));
    assert.equal(week.series.reduce((s, p) => s + p.requests, 0), 2000);
    const expected = expectedGroups(all, (e) => e.model ?? "");
    for (const { key, label: _label, ...counters } of week.groups ?? []) {
      assert.deepEqual(counters, expected.get(key));
    }
    // A 30-hour window ending now cuts the older events at a minute edge: compare exactly.
    const edge = await get(`/admin/usage?windowMs=${30 * HOUR + 17 * 60_000}`);
    const inWindow = all.filter((e) => e.at >= edge.since && e.at < edge.until);
    const before = all.filter((e) => e.at >= edge.since - edge.windowMs && e.at < edge.since);
    assert.deepEqual(edge.totals, expectedCounters(inWindow));
    assert.deepEqual(edge.previous, expectedCounters(before));
  });

  kv.close();
  await consumer;
});

Deno.test("usage routes refuse bad windows and unknown ids with the documented errors", async (t) => {
  await using deps = await testDeps({ config: { usageRetentionDays: 30 } });
  await seedKeysAndAccounts(deps.kv);
  const app = createApp(deps);
  const admin = { Authorization: `Bearer ${deps.config.adminToken}` };
  const status = async (path: string) => {
    const response = await app.request(path, { headers: admin });
    const body = await response.json() as { error?: { message: string } };
    return { status: response.status, message: body.error?.message ?? "" };
  };

  await t.step("windowMs outside one minute .. retention → 400 naming windowMs", async () => {
    for (const w of ["59999", String(31 * DAY), "abc", "1.5e6", "-60000", ""]) {
      const r = await status(`/admin/usage?windowMs=${w}`);
      assert.equal(r.status, 400, `windowMs=${w}`);
      assert.match(r.message, /windowMs/);
    }
    assert.equal((await status(`/admin/usage?windowMs=${30 * DAY}`)).status, 200);
  });

  await t.step("unknown groupBy → 400", async () => {
    const r = await status("/admin/usage?groupBy=colour");
    assert.equal(r.status, 400);
    assert.match(r.message, /groupBy/);
  });

  await t.step("unknown key or account → 404", async () => {
    assert.equal((await status("/admin/keys/nope/usage")).status, 404);
    assert.equal((await status("/admin/accounts/nope/usage")).status, 404);
    assert.equal((await status(`/admin/keys/${KEY_IDS[0]}/usage`)).status, 200);
  });

  await t.step("default window is 24 h with hour steps", async () => {
    const response = await app.request("/admin/usage", { headers: admin });
    const answer = await response.json() as UsageAnswer;
    assert.equal(answer.windowMs, DAY);
    assert.equal(answer.bucketMs, HOUR);
  });
});

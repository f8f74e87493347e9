/**
 * Requests refused before any backend are counted for their key, as
 * proxyErrors (docs/api.md#usage-and-audit): a 429 from the key's limits and a
 * 401 for a key that was revoked. Unknown secrets have no key and are not counted.
 */
import assert from "node:assert/strict";
import { createApp } from "../../src/app.ts";
import { createApiKey, revokeApiKey } from "../../src/keys/service.ts";
import { startUsageConsumer } from "../../src/usage/consumer.ts";
import { queryUsage } from "../../src/usage/query.ts";
import { flushUsage } from "../../src/usage/record.ts";
import { testDeps } from "../support/test_deps.ts";
import { waitForRequests } from "./helpers.ts";

const HOUR = 3_600_000;

Deno.test("refusals by the key middleware are counted in the key's usage", async () => {
  const kv = await Deno.openKv(":memory:");
  await using deps = await testDeps({ kv });
  const consumer = startUsageConsumer(deps);
  const app = createApp(deps);
  const { key, secret } = await createApiKey(deps, {
    label: "limited",
    limits: { requestsPerMinute: 1 },
  });
  const call = async (token: string) => {
    const res = await app.request("/v1/models", { headers: { authorization: `Bearer ${token}` } });
    await res.body?.cancel();
    return res.status;
  };

  assert.equal(await call(secret), 200);
  assert.equal(await call(secret), 429);
  await revokeApiKey(deps, key.id);
  assert.equal(await call(secret), 401);
  assert.equal(await call("kleis_unknownunknownunknownunknownunknown00"), 401);
  await flushUsage(deps);
  await waitForRequests(deps, 2, HOUR);

  const usage = await queryUsage(deps, { windowMs: HOUR, keyId: key.id });
  assert.equal(usage.totals.requests, 2);
  assert.equal(usage.totals.status429, 1);
  assert.equal(usage.totals.status4xx, 2);
  assert.equal(usage.totals.proxyErrors, 2);
  const all = await queryUsage(deps, { windowMs: HOUR });
  assert.equal(all.totals.requests, 2, "the unknown secret is not counted");

  kv.close();
  await consumer.catch(() => {});
});

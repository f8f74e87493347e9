/**
 * Usage through the real proxy: requests go through routes/proxy.ts to the
 * backend fakes, with the real recordUsage, the queue and its consumer, and
 * the answers are read back through the usage routes.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { adminUsageRoutes } from "../../routes/admin_usage.ts";
import { proxyRoutes } from "../../routes/proxy.ts";
import { acquireKeyLimits } from "../../src/keys/limits.ts";
import { saveLogin } from "../../src/accounts/repository.ts";
import type { AppEnv } from "../../src/app_env.ts";
import { errorResponse, KleisError } from "../../src/errors.ts";
import { keys } from "../../src/kv/keys.ts";
import type { ApiKeyRecord } from "../../src/model/keys.ts";
import { startUsageConsumer } from "../../src/usage/consumer.ts";
import type { UsageAnswer, UsageCounters } from "../../src/usage/query.ts";
import { flushUsage } from "../../src/usage/record.ts";
import { startAllFakes } from "../fakes/mod.ts";
import { testKey, upstreamOf } from "../proxy/harness.ts";
import { testDeps } from "../support/test_deps.ts";
import { waitForRequests } from "./helpers.ts";

const HOUR = 3_600_000;

type Tally = Pick<
  UsageCounters,
  | "requests"
  | "status2xx"
  | "status4xx"
  | "proxyErrors"
  | "inputTokens"
  | "outputTokens"
  | "cacheReadTokens"
  | "cacheWriteTokens"
>;
const zero = (): Tally => ({
  requests: 0,
  status2xx: 0,
  status4xx: 0,
  proxyErrors: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
});
const pick = (c: UsageCounters): Tally => {
  const out = zero();
  for (const k of Object.keys(out) as (keyof Tally)[]) out[k] = c[k];
  return out;
};

Deno.test("1000 proxied requests across 3 keys and 2 accounts give exact totals in every grouping", async () => {
  const fakes = await startAllFakes();
  const kv = await Deno.openKv(":memory:");
  await using deps = await testDeps({
    kv,
    config: { upstream: Object.freeze(upstreamOf(fakes.env)) },
  });
  fakes.world.now = deps.clock.now;
  const consumer = startUsageConsumer(deps);
  try {
    const keyRecords: ApiKeyRecord[] = [
      testKey({ id: "key_a", label: "Key A" }),
      testKey({ id: "key_b", label: "Key B" }),
      // Not allowed Claude: its Claude requests are refused (403) and still counted.
      testKey({ id: "key_c", label: "Key C", providers: ["codex"] }),
    ];
    for (const k of keyRecords) await kv.set(keys.apiKey(k.id), k);
    type Issued = { access_token: string; refresh_token: string; expires_in: number };
    const login = async (
      provider: "codex" | "claude",
      externalId: string,
      label: string,
      t: Issued,
    ) =>
      (await saveLogin(deps, provider, {
        tokens: {
          accessToken: t.access_token,
          refreshToken: t.refresh_token,
          expiresAt: deps.now() + t.expires_in * 1000,
        },
        identity: { externalId, label },
      }, { source: "test" })).account;
    const codexTokens = fakes.world.issueCodexTokens({ accountId: "chatgpt-usage" });
    const claudeTokens = fakes.world.issueClaudeTokens({ uuid: "claude-usage" });
    const codex = await login("codex", "chatgpt-usage", "Codex acct", codexTokens);
    const claude = await login("claude", "claude-usage", "Claude acct", claudeTokens);

    let counter = 0;
    const app = new Hono<AppEnv>();
    app.use("*", async (c, next) => {
      // Stand-in for the key middleware: the test names the key per request.
      c.set("requestId", `req_${++counter}`);
      const key = keyRecords.find((k) => k.id === c.req.header("x-test-key"));
      if (key) {
        c.set("apiKey", key);
        c.set("keyLease", await acquireKeyLimits(deps, key));
      }
      await next();
    });
    app.route("/", proxyRoutes(deps));
    app.route("/admin", adminUsageRoutes(deps));
    app.onError((error) => {
      if (error instanceof KleisError) return errorResponse("kleis", error);
      throw error;
    });

    const expected = {
      totals: zero(),
      byKey: new Map<string, Tally>(),
      byAccount: new Map<string, Tally>(),
      byProvider: new Map<string, Tally>(),
      byModel: new Map<string, Tally>(),
      byEndpoint: new Map<string, Tally>(),
    };
    const add = (map: Map<string, Tally> | undefined, id: string, t: Tally) => {
      const target = map ? (map.get(id) ?? zero()) : expected.totals;
      for (const k of Object.keys(t) as (keyof Tally)[]) target[k] += t[k];
      map?.set(id, target);
    };

    // Four waves with different token counts reported by the fakes.
    for (let wave = 0; wave < 4; wave++) {
      const codexUsage = { input: 100 + wave, cached: 30 + wave, output: 20 + wave };
      const claudeUsage = { input: 50 + wave, output: 15 + wave, read: 7 + wave, write: 3 + wave };
      fakes.chatgpt.setUsage({
        input_tokens: codexUsage.input,
        cache_read_input_tokens: codexUsage.cached,
        output_tokens: codexUsage.output,
      });
      fakes.anthropic.setUsage({
        input_tokens: claudeUsage.input,
        output_tokens: claudeUsage.output,
        cache_read_input_tokens: claudeUsage.read,
        cache_creation_input_tokens: claudeUsage.write,
      });
      const indexes = Array.from({ length: 250 }, (_, i) => wave * 250 + i);
      for (let start = 0; start < indexes.length; start += 25) {
        await Promise.all(
          indexes.slice(start, start + 25).map(async (i) => {
            const key = keyRecords[i % 3]!;
            const isCodex = i % 2 === 0;
            const endpoint = isCodex ? "/openai/v1/responses" : "/anthropic/v1/messages";
            const model = isCodex ? "gpt-5.5" : "claude-sonnet-4-5";
            const body = isCodex ? { model, input: "hello", stream: i % 4 === 0 } : {
              model,
              max_tokens: 64,
              messages: [{ role: "user", content: "hi" }],
              stream: i % 3 === 0,
            };
            const res = await app.request(endpoint, {
              method: "POST",
              headers: { "content-type": "application/json", "x-test-key": key.id },
              body: JSON.stringify(body),
            });
            await res.arrayBuffer();
            const refused = !isCodex && key.id === "key_c";
            assert.equal(res.status, refused ? 403 : 200, `request ${i}`);
            const t: Tally = refused
              ? { ...zero(), requests: 1, status4xx: 1, proxyErrors: 1 }
              : isCodex
              ? {
                ...zero(),
                requests: 1,
                status2xx: 1,
                inputTokens: codexUsage.input - codexUsage.cached,
                cacheReadTokens: codexUsage.cached,
                outputTokens: codexUsage.output,
              }
              : {
                ...zero(),
                requests: 1,
                status2xx: 1,
                inputTokens: claudeUsage.input,
                outputTokens: claudeUsage.output,
                cacheReadTokens: claudeUsage.read,
                cacheWriteTokens: claudeUsage.write,
              };
            add(undefined, "", t);
            add(expected.byKey, key.id, t);
            add(expected.byAccount, refused ? "" : isCodex ? codex.id : claude.id, t);
            add(expected.byProvider, isCodex ? "codex" : "claude", t);
            add(expected.byModel, model, t);
            add(expected.byEndpoint, endpoint, t);
          }),
        );
      }
    }

    // Requests end when their body is read; the tracker records just after.
    await new Promise((r) => setTimeout(r, 50));
    await flushUsage(deps);
    await waitForRequests(deps, 1000, HOUR);
    const get = async (path: string) => {
      const res = await app.request(path);
      assert.equal(res.status, 200);
      return await res.json() as UsageAnswer;
    };
    assert.deepEqual(pick((await get(`/admin/usage?windowMs=${HOUR}`)).totals), expected.totals);
    const groupings = {
      key: expected.byKey,
      account: expected.byAccount,
      provider: expected.byProvider,
      model: expected.byModel,
      endpoint: expected.byEndpoint,
    };
    for (const [groupBy, map] of Object.entries(groupings)) {
      const answer = await get(`/admin/usage?windowMs=${HOUR}&groupBy=${groupBy}`);
      assert.equal(answer.groups?.length, map.size, groupBy);
      for (const group of answer.groups ?? []) {
        assert.deepEqual(pick(group), map.get(group.key), `${groupBy} ${group.key}`);
      }
    }
    for (const k of keyRecords) {
      const answer = await get(`/admin/keys/${k.id}/usage?windowMs=${HOUR}`);
      assert.deepEqual(pick(answer.totals), expected.byKey.get(k.id));
    }
    for (const a of [codex, claude]) {
      const answer = await get(`/admin/accounts/${a.id}/usage?windowMs=${HOUR}`);
      assert.deepEqual(pick(answer.totals), expected.byAccount.get(a.id));
    }
  } finally {
    kv.close();
    await consumer;
    await fakes.close();
  }
});

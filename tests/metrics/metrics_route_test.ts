/**
 * GET /metrics end to end: the whole app against the backend fakes, a real
 * API key, requests of three providers (JSON, streamed, refused, retried),
 * and every counter, histogram and gauge checked exactly through an npm
 * Prometheus text-format parser; who may read it; refresh outcomes through
 * the one refresh path.
 */
import assert from "node:assert/strict";
import { createApp } from "../../src/app.ts";
import { createApiKey } from "../../src/keys/service.ts";
import { saveLogin } from "../../src/accounts/repository.ts";
import { flushUsage } from "../../src/usage/record.ts";
import { FORCE_DEBOUNCE_MS } from "../../src/accounts/refresh.ts";
import { VERSION } from "../../src/version.ts";
import { LATENCY_BUCKETS } from "../../src/metrics/metrics.ts";
import { startAllFakes } from "../fakes/mod.ts";
import { testDeps } from "../support/test_deps.ts";
import { upstreamOf } from "../proxy/harness.ts";
import { accountsEnv, seedAccount } from "../accounts/helpers.ts";
import { METRICS_TYPE, parseScrape, type Scrape, total } from "./scrape.ts";

const METRICS_TOKEN = "metrics-token-0123456789abcdefghijklmnop";

async function metricsEnv() {
  const fakes = await startAllFakes();
  const deps = await testDeps({
    config: { upstream: Object.freeze(upstreamOf(fakes.env)), metricsToken: METRICS_TOKEN },
  });
  fakes.world.now = deps.clock.now;
  const app = createApp(deps);
  const { secret } = await createApiKey(deps, { label: "metrics test" });
  const save = (provider: "codex" | "claude" | "copilot", externalId: string, tokens: {
    accessToken: string;
    refreshToken?: string;
    expiresAt?: number;
  }) =>
    saveLogin(deps, provider, { tokens, identity: { externalId, label: externalId } }, {
      source: "test",
    });
  const codex = fakes.world.issueCodexTokens({ accountId: "acct-m" });
  await save("codex", "acct-m", {
    accessToken: codex.access_token,
    refreshToken: codex.refresh_token,
    expiresAt: deps.now() + codex.expires_in * 1000,
  });
  const claude = fakes.world.issueClaudeTokens({ uuid: crypto.randomUUID() });
  await save("claude", "claude-m", {
    accessToken: claude.access_token,
    refreshToken: claude.refresh_token,
    expiresAt: deps.now() + claude.expires_in * 1000,
  });
  await save("copilot", "gh-m", { accessToken: fakes.world.issueCopilotToken({ login: "m" }) });
  return {
    fakes,
    deps,
    post: (path: string, body: unknown) =>
      app.request(path, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    get: (path: string, token?: string) =>
      app.request(
        path,
        token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
      ),
    async scrape(): Promise<Scrape> {
      const res = await app.request("/metrics", {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), METRICS_TYPE);
      assert.equal(res.headers.get("cache-control"), "no-store");
      return parseScrape(await res.text());
    },
    async [Symbol.asyncDispose]() {
      await flushUsage(deps);
      await fakes.close();
      await deps[Symbol.asyncDispose]();
    },
  };
}

/** Polls /metrics until `ok` holds (bounded), for what ends after the answer was read. */
async function scrapeUntil(
  env: { scrape(): Promise<Scrape> },
  ok: (s: Scrape) => boolean,
): Promise<Scrape> {
  for (let i = 0; i < 200; i++) {
    const scrape = await env.scrape();
    if (ok(scrape)) return scrape;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the metrics never reached the expected state");
}

const requests = "kleis_proxy_requests_total";
const codexUsage = { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 30 };
const claudeUsage = {
  input_tokens: 50,
  output_tokens: 9,
  cache_read_input_tokens: 5,
  cache_creation_input_tokens: 7,
};

Deno.test("GET /metrics counts proxied requests, latency, tokens, retries and open streams", async (t) => {
  await using env = await metricsEnv();
  env.fakes.chatgpt.setUsage(codexUsage);
  env.fakes.anthropic.setUsage(claudeUsage);

  await t.step("before any request: build, start time, accounts; no request series", async () => {
    const s = await env.scrape();
    assert.equal(s.value("kleis_build_info", { version: VERSION }), 1);
    const start = s.value("kleis_process_start_time_seconds")!;
    assert.ok(Math.abs(start - performance.timeOrigin / 1000) < 1);
    for (const provider of ["codex", "claude", "copilot"]) {
      assert.equal(s.value("kleis_accounts", { provider, status: "active" }), 1);
      assert.equal(s.value("kleis_accounts", { provider, status: "needs_login" }), 0);
      assert.equal(s.value("kleis_proxy_open_streams", { provider }), 0);
      assert.equal(s.value("kleis_proxy_tokens_total", { provider, kind: "input" }), 0);
    }
    assert.equal(s.series(requests).length, 0);
    assert.equal(s.families.get(requests)?.type, "COUNTER");
  });

  await t.step(
    "JSON answers, a refusal and a retried request move exactly their series",
    async () => {
      const body = { model: "gpt-5.5", input: "hello", stream: false };
      for (let i = 0; i < 2; i++) {
        const res = await env.post("/openai/v1/responses", body);
        assert.equal(res.status, 200);
        await res.body?.cancel();
      }
      // One transient 500, then success on the retry (attempts 2).
      env.fakes.chatgpt.failNext({ status: 500, body: { error: { message: "boom" } } });
      const retried = await env.post("/openai/v1/responses", body);
      assert.equal(retried.status, 200);
      await retried.body?.cancel();
      const refused = await env.post("/v1/chat/completions", { messages: [] });
      assert.equal(refused.status, 400);
      await refused.body?.cancel();

      const s = await env.scrape();
      const route = "/openai/v1/responses";
      assert.equal(s.value(requests, { route, provider: "codex", status: "200" }), 3);
      assert.equal(
        s.value(requests, { route: "/v1/chat/completions", provider: "none", status: "400" }),
        1,
      );
      assert.equal(total(s, requests), 4);
      assert.equal(s.value("kleis_proxy_retries_total", { provider: "codex" }), 1);
      const tokens = (kind: string) =>
        s.value("kleis_proxy_tokens_total", { provider: "codex", kind });
      assert.equal(tokens("input"), 3 * 70);
      assert.equal(tokens("cache_read"), 3 * 30);
      assert.equal(tokens("output"), 3 * 20);
      assert.equal(tokens("cache_write"), 0);

      const latency = s.histogram("kleis_proxy_request_duration_seconds", {
        route,
        provider: "codex",
      })!;
      assert.equal(latency.count, 3);
      assert.deepEqual([...latency.buckets.keys()], [...LATENCY_BUCKETS.map(String), "+Inf"]);
      assert.equal(latency.buckets.get("+Inf"), 3);
      const counts = [...latency.buckets.values()];
      assert.ok(counts.every((n, i) => i === 0 || n >= counts[i - 1]!), "cumulative");
      // The retry waited 125-250 ms before its second try.
      assert.ok(latency.sum >= 0.125, `sum ${latency.sum}`);
      assert.ok(latency.buckets.get("0.1")! <= 2);
      const firstByte = s.histogram("kleis_proxy_first_byte_seconds", {
        route,
        provider: "codex",
      })!;
      assert.equal(firstByte.count, 3);
      const refusedLatency = s.histogram("kleis_proxy_request_duration_seconds", {
        route: "/v1/chat/completions",
        provider: "none",
      })!;
      assert.equal(refusedLatency.count, 1);
      assert.equal(
        s.histogram("kleis_proxy_first_byte_seconds", {
          route: "/v1/chat/completions",
          provider: "none",
        })?.count,
        0,
        "a refusal sends no first byte",
      );
    },
  );

  await t.step(
    "a stream is open while it is read, closed when it ends or is cancelled",
    async () => {
      const body = {
        model: "claude-sonnet-4-5",
        max_tokens: 100,
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      };
      const res = await env.post("/anthropic/v1/messages", body);
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      assert.ok(!(await reader.read()).done);
      let s = await env.scrape();
      assert.equal(s.value("kleis_proxy_open_streams", { provider: "claude" }), 1);
      while (!(await reader.read()).done) { /* read to the end */ }
      s = await scrapeUntil(
        env,
        (x) => x.value("kleis_proxy_open_streams", { provider: "claude" }) === 0,
      );
      const route = "/anthropic/v1/messages";
      assert.equal(s.value(requests, { route, provider: "claude", status: "200" }), 1);
      const tokens = (kind: string) =>
        s.value("kleis_proxy_tokens_total", { provider: "claude", kind });
      assert.equal(tokens("input"), 50);
      assert.equal(tokens("output"), 9);
      assert.equal(tokens("cache_read"), 5);
      assert.equal(tokens("cache_write"), 7);

      const cancelled = await env.post("/anthropic/v1/messages", body);
      const r2 = cancelled.body!.getReader();
      await r2.read();
      assert.equal(
        (await env.scrape()).value("kleis_proxy_open_streams", { provider: "claude" }),
        1,
      );
      await r2.cancel();
      s = await scrapeUntil(
        env,
        (x) => x.value("kleis_proxy_open_streams", { provider: "claude" }) === 0,
      );
      assert.equal(s.value(requests, { route, provider: "claude", status: "499" }), 1);
    },
  );

  await t.step("a streamed chat completion on Copilot is counted like the others", async () => {
    const res = await env.post("/copilot/v1/chat/completions", {
      model: "gpt-4.1",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(res.status, 200);
    await res.text();
    const s = await scrapeUntil(
      env,
      (x) =>
        x.value(requests, {
          route: "/copilot/v1/chat/completions",
          provider: "copilot",
          status: "200",
        }) === 1,
    );
    assert.equal(s.value("kleis_proxy_open_streams", { provider: "copilot" }), 0);
    assert.ok(s.value("kleis_proxy_tokens_total", { provider: "copilot", kind: "input" })! > 0);
  });
});

Deno.test("GET /metrics: the metrics token or the admin token; the metrics token opens nothing else", async () => {
  await using env = await metricsEnv();
  const status = async (path: string, token?: string) => {
    const res = await env.get(path, token);
    await res.body?.cancel();
    return res;
  };
  const none = await status("/metrics");
  assert.equal(none.status, 401);
  assert.equal(none.headers.get("cache-control"), "no-store");
  assert.equal((await status("/metrics", "wrong-token-wrong-token-wrong-token")).status, 401);
  assert.equal((await status("/metrics", env.deps.config.adminToken)).status, 200);
  const ok = await status("/metrics", METRICS_TOKEN);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("content-type"), METRICS_TYPE);
  assert.equal((await status("/admin/accounts", METRICS_TOKEN)).status, 401);
  assert.equal((await status("/admin/keys", METRICS_TOKEN)).status, 401);
  assert.equal((await status("/admin/accounts", env.deps.config.adminToken)).status, 200);
  // An API key is no metrics token either.
  const { secret } = await createApiKey(env.deps, { label: "not for metrics" });
  assert.equal((await status("/metrics", secret)).status, 401);
  // Nothing secret is logged.
  const log = env.deps.logLines.join("\n");
  assert.ok(!log.includes(METRICS_TOKEN));
  assert.ok(!log.includes(env.deps.config.adminToken));
});

Deno.test("GET /metrics without KLEIS_METRICS_TOKEN: only the admin token", async () => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const res = await app.request("/metrics", {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  await res.body?.cancel();
  assert.equal(res.status, 401);
  const admin = await app.request("/metrics", {
    headers: { authorization: `Bearer ${deps.config.adminToken}` },
  });
  assert.equal(admin.status, 200);
  const s = parseScrape(await admin.text());
  assert.equal(s.value("kleis_accounts", { provider: "codex", status: "active" }), 0);
});

Deno.test("token refreshes are counted by provider and outcome", async () => {
  await using env = await accountsEnv();
  const app = createApp(env.deps);
  const scrape = async () => {
    const res = await app.request("/metrics", {
      headers: { authorization: `Bearer ${env.deps.config.adminToken}` },
    });
    assert.equal(res.status, 200);
    return parseScrape(await res.text());
  };
  const refreshes = (s: Scrape, outcome: string) =>
    s.value("kleis_token_refreshes_total", { provider: "codex", outcome });

  let s = await scrape();
  assert.equal(refreshes(s, "success"), 0);
  assert.equal(refreshes(s, "transient_failure"), 0);
  assert.equal(refreshes(s, "permanent_failure"), 0);

  // One transient failure, then a success (retried inside the one refresh).
  const good = await seedAccount(env, "codex", { expiresInSec: 3600 });
  // A forced refresh right after a write reuses it: let the write age first.
  env.deps.clock.advance(FORCE_DEBOUNCE_MS + 1);
  env.fakes.openaiAuth.failNextRefresh({ status: 503, body: { error: "unavailable" } });
  assert.equal((await env.admin("POST", `/accounts/${good.id}/refresh`)).status, 200);
  s = await scrape();
  assert.equal(refreshes(s, "transient_failure"), 1);
  assert.equal(refreshes(s, "success"), 1);

  // A refresh token used elsewhere: one permanent failure, the account needs a login.
  const lost = await seedAccount(env, "codex", { expiresInSec: 3600 });
  env.fakes.world.codex.useRefresh(lost.tokens.refresh_token);
  env.deps.clock.advance(FORCE_DEBOUNCE_MS + 1);
  assert.notEqual((await env.admin("POST", `/accounts/${lost.id}/refresh`)).status, 200);
  s = await scrape();
  assert.equal(refreshes(s, "permanent_failure"), 1);
  assert.equal(refreshes(s, "success"), 1);
  assert.equal(s.value("kleis_accounts", { provider: "codex", status: "needs_login" }), 1);
  assert.equal(s.value("kleis_accounts", { provider: "codex", status: "active" }), 1);
  assert.equal(
    s.value("kleis_token_refreshes_total", { provider: "claude", outcome: "success" }),
    0,
  );
});

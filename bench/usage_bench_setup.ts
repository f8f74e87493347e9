/**
 * The two server processes of bench/usage_bench.ts (each prints one JSON line
 * on stdout once ready, then runs until killed):
 *
 *   fakes           every backend fake (tests/fakes), plus a fresh Copilot
 *                   `gho_` token issued by their world; its own process, so
 *                   the fakes' CPU never shares the proxy's event loop
 *   proxy <kvPath>  the real Kleis app (createApp: key auth, limits, routing,
 *                   the proxy engine, usage capture) on a file KV, with the
 *                   usage consumer listening, the Copilot account imported
 *                   through importCredentials (hosts.json shape), and one key
 *                   with a high requestsPerMinute; the fakes' environment
 *                   comes in USAGE_BENCH_FAKES_ENV
 *
 * Analytics is switched on and off at run time through a control listener on
 * a second port, so both modes run in the same warm process:
 *   off: the proxy's recordUsage is a no-op (nothing buffered, sent, ingested)
 *   on:  the shipped recordUsage (src/usage/record.ts) and the consumer
 * USAGE_SEND_INTERVAL_MS (inherited by the proxy process) overrides the
 * sender's least interval between sends.
 */
import process from "node:process";
import { Hono } from "hono";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { testConfig } from "../tests/support/test_config.ts";
import { createDeps } from "../src/deps.ts";
import { createLogger } from "../src/log.ts";
import { importCredentials } from "../src/accounts/import.ts";
import { createApiKey } from "../src/keys/service.ts";
import { defaultProxyServices } from "../src/proxy/services.ts";
import { startUsageConsumer } from "../src/usage/consumer.ts";
import { queryUsage } from "../src/usage/query.ts";
import { flushUsage, recordUsage } from "../src/usage/record.ts";
import { Runtime } from "../src/runtime.ts";
import type { UsageEvent } from "../src/usage/types.ts";
import { startAllFakes } from "../tests/fakes/mod.ts";
import { openKv } from "../src/kv/open.ts";

export const ADMIN_TOKEN = "bench-admin-token-0123456789abcdefghijklmnop";
const ENCRYPTION_KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));

/** What the fakes process prints. */
export interface FakesReady {
  env: Record<string, string>;
  copilotToken: string;
}

/** What the proxy process prints. */
export interface ProxyReady {
  url: string;
  controlUrl: string;
  apiKey: string;
}

export interface IsolatedCost {
  /** CPU of the analytics alone (recordUsage, sender, queue, consumer) per event, µs. */
  perEventUs: number;
  events: number;
  counted: number;
}

/**
 * The analytics' own CPU, without a proxy around it: events at `rate` per
 * second (in 10 ms ticks, as finished requests arrive) through the shipped
 * recordUsage into a file KV with the consumer listening, against the same
 * loop with recording off, in alternating phases of `ms`; medians of the
 * differences. Steadier than the proxy figures, since only this process's
 * own work is timed.
 */
/** To compare send intervals (the sender's main cost knob): USAGE_SEND_INTERVAL_MS. */
function benchRuntime(): Runtime {
  const interval = Deno.env.get("USAGE_SEND_INTERVAL_MS");
  return new Runtime(interval ? { usageSendIntervalMs: Number(interval) } : {});
}

export async function isolatedAnalyticsCost(
  rate: number,
  ms: number,
  pairs: number,
): Promise<IsolatedCost> {
  const dir = await Deno.makeTempDir({ prefix: "kleis-usage-iso-" });
  const kvPath = `${dir}/kv.sqlite3`;
  const kv = await openKv(kvPath);
  const deps = await createDeps(kv, testConfig({ kvPath }), {
    log: createLogger(undefined, "error"),
    runtime: benchRuntime(),
  });
  const consumer = startUsageConsumer(deps);
  let sent = 0;
  const event = (): UsageEvent => ({
    id: crypto.randomUUID(),
    at: Date.now(),
    keyId: "bench_key_0123",
    accountId: "bench_account_0123",
    provider: "copilot",
    model: "gpt-4.1",
    endpoint: "/copilot/v1/chat/completions",
    status: 200,
    failure: "none",
    firstByteMs: 12,
    latencyMs: 15,
    inputTokens: 10,
    outputTokens: 5,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  });
  const phase = async (on: boolean, phaseMs: number) => {
    const start = process.cpuUsage();
    const end = performance.now() + phaseMs;
    let events = 0;
    while (performance.now() < end) {
      for (let i = 0; i < rate / 100; i++) {
        const e = event();
        events++;
        if (on) void recordUsage(deps, e);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (on) sent += events;
    await flushUsage(deps);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const cpu = process.cpuUsage(start);
    return (cpu.user + cpu.system) / events;
  };
  try {
    await phase(true, 500);
    sent = 0;
    const base = (await queryUsage(deps, { windowMs: 3_600_000 })).totals.requests;
    const diffs: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const off = await phase(false, ms);
      diffs.push(await phase(true, ms) - off);
    }
    const counted = (await queryUsage(deps, { windowMs: 3_600_000 })).totals.requests - base;
    diffs.sort((a, b) => a - b);
    return { perEventUs: diffs[Math.floor(diffs.length / 2)]!, events: sent, counted };
  } finally {
    kv.close();
    await consumer.catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function serveFakes(): Promise<void> {
  const fakes = await startAllFakes({ github: { interval: 0 } });
  // The fakes log every request; a long bench would otherwise grow without bound.
  setInterval(() => fakes.copilot.clearRequests(), 2000);
  const ready: FakesReady = { env: fakes.env, copilotToken: fakes.world.issueCopilotToken() };
  console.log(JSON.stringify(ready));
}

async function serveProxy(kvPath: string): Promise<void> {
  const fakesEnv = JSON.parse(Deno.env.get("USAGE_BENCH_FAKES_ENV") ?? "{}") as FakesReady;
  const kv = await openKv(kvPath);
  const config = loadConfig({ ...fakesEnv.env, KLEIS_KV_PATH: kvPath }, {
    adminToken: ADMIN_TOKEN,
    encryptionKey: ENCRYPTION_KEY,
  });
  const deps = await createDeps(kv, config, {
    log: createLogger(undefined, "error"),
    runtime: benchRuntime(),
  });

  await importCredentials(deps, "copilot", {
    "github.com": { user: "bench", oauth_token: fakesEnv.copilotToken },
  });
  const { secret } = await createApiKey(deps, {
    label: "usage bench",
    limits: { requestsPerMinute: 100_000_000 },
  });

  // The switch: the engine copies defaultProxyServices when createApp builds
  // it, so the one seam the proxy offers for its usage sink (ProxyServices,
  // as the proxy tests use it) is set before that, and decides per call.
  let analytics = true;
  defaultProxyServices.recordUsage = (d, event) =>
    analytics ? recordUsage(d, event) : Promise.resolve();
  const app = createApp(deps);
  startUsageConsumer(deps);

  const control = new Hono();
  control.post("/mode/:mode", (c) => {
    analytics = c.req.param("mode") === "on";
    return c.json({ analytics });
  });
  // CPU time of the whole proxy process (every thread, the consumer's included), µs.
  control.get("/cpu", (c) => {
    const cpu = process.cpuUsage();
    return c.json({ cpuUs: cpu.user + cpu.system });
  });
  // Requests counted in the usage buckets so far, once the sender has sent what it holds.
  control.get("/counted", async (c) => {
    await flushUsage(deps);
    const answer = await queryUsage(deps, { windowMs: 3_600_000 });
    return c.json({ counted: answer.totals.requests });
  });

  const onListen = () => {};
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen }, app.fetch);
  const controlServer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen }, control.fetch);
  const ready: ProxyReady = {
    url: `http://127.0.0.1:${server.addr.port}`,
    controlUrl: `http://127.0.0.1:${controlServer.addr.port}`,
    apiKey: secret,
  };
  console.log(JSON.stringify(ready));
}

if (import.meta.main) {
  const [role, kvPath] = Deno.args;
  if (role === "fakes") await serveFakes();
  else if (role === "proxy" && kvPath) await serveProxy(kvPath);
  else {
    console.error("usage: usage_bench_setup.ts fakes | proxy <kvPath>");
    Deno.exit(2);
  }
}

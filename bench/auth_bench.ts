/**
 * Cost of key authentication and limits: GET /v1/models with a valid key
 * (requestsPerMinute set high enough never to refuse) against GET /healthz,
 * same process, same run, 32 concurrent clients. The server is the real app
 * on Deno.serve with a file KV in a temporary directory.
 *
 * Also measured: a no-op route behind the same key middleware, which
 * isolates authentication + limits from whatever /v1/models itself does.
 *
 * One Codex and one Claude account are stored (no backend is called: their
 * model lists come from the registry), so /v1/models answers a real list.
 */
import { Hono } from "hono";
import { createApp } from "../src/app.ts";
import { createDeps } from "../src/deps.ts";
import { testConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import type { AppEnv } from "../src/app_env.ts";
import { apiKeyAuth } from "../src/auth/api_key_auth.ts";
import { createApiKey } from "../src/keys/service.ts";
import { saveLogin } from "../src/accounts/repository.ts";
import { formatResult, type LoadResult, runLoad } from "./support.ts";

const CONCURRENCY = 32;
const DURATION_MS = Number(Deno.env.get("BENCH_DURATION_MS") ?? 5000);
const WARMUP_MS = 1000;

export async function run(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kleis-bench-" });
  const kv = await Deno.openKv(`${dir}/kleis.db`);
  // models.dev on a closed local port: the registry falls back to its bundled copy at once.
  const config = testConfig({
    kvPath: `${dir}/kleis.db`,
    modelsDevUrl: "http://127.0.0.1:9/api.json",
  });
  const deps = await createDeps(kv, config, {
    log: createLogger(undefined, "warn"),
  });
  const app = createApp(deps);
  // The same middleware in front of a route that does nothing else.
  const bare = new Hono<AppEnv>();
  bare.use("/v1/*", apiKeyAuth(deps));
  bare.get("/v1/noop", (c) => c.json({ ok: true }));
  const fetchHandler = (req: Request, info: Deno.ServeHandlerInfo) =>
    new URL(req.url).pathname === "/v1/noop" ? bare.fetch(req, info) : app.fetch(req, info);

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, fetchHandler);
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    const { secret } = await createApiKey(deps, {
      label: "bench",
      limits: { requestsPerMinute: 10_000_000 },
    });
    for (const provider of ["codex", "claude"] as const) {
      await saveLogin(deps, provider, {
        tokens: { accessToken: `bench-${provider}-token` },
        identity: { externalId: `bench-${provider}`, label: `bench ${provider}` },
      }, { source: "bench" });
    }
    const withKey = { headers: { authorization: `Bearer ${secret}` } };
    const listed = await (await fetch(`${base}/v1/models`, withKey)).json();
    console.log(`/v1/models lists ${listed.data.length} models`);
    const load = (label: string, path: string, init: RequestInit | undefined, ms: number) =>
      runLoad(label, {
        url: base + path,
        ...(init ? { init } : {}),
        concurrency: CONCURRENCY,
        durationMs: ms,
      });

    await load("warm-up healthz", "/healthz", undefined, WARMUP_MS);
    await load("warm-up models", "/v1/models", withKey, WARMUP_MS);
    await load("warm-up noop", "/v1/noop", withKey, WARMUP_MS);

    // Interleave two halves so drift (CPU frequency, GC) hits all routes alike.
    const halves: LoadResult[][] = [];
    for (let round = 0; round < 2; round++) {
      halves.push([
        await load("GET /healthz", "/healthz", undefined, DURATION_MS / 2),
        await load("GET /v1/models (key+rpm)", "/v1/models", withKey, DURATION_MS / 2),
        await load("GET /v1/noop (key+rpm only)", "/v1/noop", withKey, DURATION_MS / 2),
      ]);
    }
    const [health, models, noop] = halves[0]!.map((first, i) => merge(first, halves[1]![i]!));

    console.log(`\n== auth bench: ${CONCURRENCY} clients, ${DURATION_MS} ms per route ==`);
    for (const r of [health!, models!, noop!]) console.log(formatResult(r));
    for (const r of [models!, noop!]) {
      const ratio = r.rps / health!.rps;
      const delta = r.p50Ms - health!.p50Ms;
      const verdict = ratio >= 0.9 && delta <= 0.3 ? "meets" : "misses";
      const cpu = r.cpuUsPerRequest - health!.cpuUsPerRequest;
      console.log(
        `${r.label}: throughput ${ratio.toFixed(3)}× healthz, p50 ${delta >= 0 ? "+" : ""}${
          delta.toFixed(3)
        } ms (${verdict} ≥0.9× and ≤+0.3 ms); CPU ${cpu >= 0 ? "+" : ""}${
          cpu.toFixed(0)
        } µs/request`,
      );
    }
  } finally {
    await server.shutdown();
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Two halves of one route's measurement: totals add, percentiles are averaged. */
function merge(a: LoadResult, b: LoadResult): LoadResult {
  const requests = a.requests + b.requests;
  return {
    label: a.label,
    requests,
    errors: a.errors + b.errors,
    rps: (a.rps + b.rps) / 2,
    p50Ms: (a.p50Ms * a.requests + b.p50Ms * b.requests) / requests,
    p99Ms: Math.max(a.p99Ms, b.p99Ms),
    meanMs: (a.meanMs * a.requests + b.meanMs * b.requests) / requests,
    cpuUsPerRequest: (a.cpuUsPerRequest * a.requests + b.cpuUsPerRequest * b.requests) / requests,
  };
}

if (import.meta.main) await run();

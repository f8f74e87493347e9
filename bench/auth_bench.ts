/**
 * Cost of key authentication and limits: GET /v1/models with a valid key
 * (requestsPerMinute set high enough never to refuse) against GET /healthz,
 * same process, same run, 32 concurrent clients. The server is the real app
 * on Deno.serve with a file KV in a temporary directory.
 *
 * Also measured: a no-op route behind the same key middleware, which
 * isolates authentication + limits from whatever /v1/models itself does, and
 * a no-op route inside the app behind its whole /v1/* chain (request id, key
 * auth + limits, body limit), which isolates the model-list route itself.
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
import { openKv } from "../src/kv/open.ts";

const CONCURRENCY = 32;
const DURATION_MS = Number(Deno.env.get("BENCH_DURATION_MS") ?? 5000);
const WARMUP_MS = 1000;
const ROUNDS = 5;

export async function run(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kleis-bench-" });
  const kv = await openKv(`${dir}/kleis.db`);
  // models.dev on a closed local port: the registry falls back to its bundled copy at once.
  const config = testConfig({
    kvPath: `${dir}/kleis.db`,
    modelsDevUrl: "http://127.0.0.1:9/api.json",
  });
  const deps = await createDeps(kv, config, {
    log: createLogger(undefined, "warn"),
  });
  const app = createApp(deps);
  // A route that does nothing, behind the app's whole /v1/* chain (request id,
  // key auth + limits, body limit): what /v1/models costs beyond it is the route's.
  app.get("/v1/chain-noop", (c) => c.json({ ok: true }));
  // The key middleware alone in front of a route that does nothing else.
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
    await load("warm-up chain noop", "/v1/chain-noop", withKey, WARMUP_MS);

    // Interleave ROUNDS slices, rotating the order, so drift (CPU frequency, GC,
    // other work on the machine) hits all routes alike.
    const routes: [string, string, RequestInit | undefined][] = [
      ["GET /healthz", "/healthz", undefined],
      ["GET /v1/models (key+rpm)", "/v1/models", withKey],
      ["GET /v1/noop (key+rpm only)", "/v1/noop", withKey],
      ["GET /v1/chain-noop (app)", "/v1/chain-noop", withKey],
    ];
    const slices: LoadResult[][] = routes.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < routes.length; k++) {
        const i = (round + k) % routes.length;
        const [label, path, init] = routes[i]!;
        slices[i]!.push(await load(label, path, init, DURATION_MS / ROUNDS));
      }
    }
    const [health, models, noop, chain] = slices.map((s) => s.reduce(merge));

    console.log(`\n== auth bench: ${CONCURRENCY} clients, ${DURATION_MS} ms per route ==`);
    for (const r of [health!, models!, noop!, chain!]) console.log(formatResult(r));
    for (const r of [models!, noop!, chain!]) {
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

/**
 * Two slices of one route's measurement (either may already be merged):
 * requests and time add (rps = all requests / all time), p50 and the means
 * are weighted by requests, p99 is the worse.
 */
function merge(a: LoadResult, b: LoadResult): LoadResult {
  const requests = a.requests + b.requests;
  return {
    label: a.label,
    requests,
    errors: a.errors + b.errors,
    rps: requests / (a.requests / a.rps + b.requests / b.rps),
    p50Ms: (a.p50Ms * a.requests + b.p50Ms * b.requests) / requests,
    p99Ms: Math.max(a.p99Ms, b.p99Ms),
    meanMs: (a.meanMs * a.requests + b.meanMs * b.requests) / requests,
    cpuUsPerRequest: (a.cpuUsPerRequest * a.requests + b.cpuUsPerRequest * b.requests) / requests,
  };
}

if (import.meta.main) await run();

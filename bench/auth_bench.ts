/**
 * Cost of key authentication and limits: GET /v1/models with a valid key
 * (requestsPerMinute set high enough never to refuse) against GET /healthz,
 * 32 concurrent clients, interleaved in the same run against the same Kleis
 * server process.
 *
 * The server is main.ts itself, in its own process (PORT=0; the port is read
 * from its "Kleis listening on …" line), on a file KV in a temporary
 * directory. The load generator is this process, so its own CPU (fetch,
 * reading and parsing ~2 KB of model list against a few bytes of /healthz)
 * no longer shares the server's event loop. CPU per request is the server
 * process's (utime + stime of every thread, from /proc/<pid>/stat, over the
 * slice / the requests of the slice), not this process's.
 *
 * The KV file is seeded before the server starts, with the same code paths
 * the admin API uses (createApiKey, saveLogin): one key, and one Codex and
 * one Claude account (no backend is called: their model lists come from the
 * registry, models.dev being a closed local port, so the bundled copy), so
 * /v1/models answers a real list.
 *
 * Dropped with the move to a separate process: the earlier /v1/noop (key
 * middleware alone) and /v1/chain-noop (the app's /v1/* chain, no route
 * work) comparisons, since they need routes main.ts does not have.
 */
import { createDeps } from "../src/deps.ts";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { createApiKey } from "../src/keys/service.ts";
import { saveLogin } from "../src/accounts/repository.ts";
import { openKv } from "../src/kv/open.ts";
import {
  benchServerFlags,
  formatResult,
  type LoadResult,
  mergeResults,
  processCpuUs,
  runLoad,
  spawnKleisMain,
} from "./support.ts";

const CONCURRENCY = 32;
const DURATION_MS = Number(Deno.env.get("BENCH_DURATION_MS") ?? 10000);
const WARMUP_MS = 1000;
const ROUNDS = 10;
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdefghijklmnop";
const ENCRYPTION_KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(5)));
/** Nothing listens there: any backend call fails at once instead of leaving the machine. */
const CLOSED = "http://127.0.0.1:9";

/** Stores the key and the two accounts; returns the key's secret. */
async function seed(kvPath: string): Promise<string> {
  const kv = await openKv(kvPath);
  try {
    const config = loadConfig({ KLEIS_KV_PATH: kvPath }, {
      adminToken: ADMIN_TOKEN,
      encryptionKey: ENCRYPTION_KEY,
    });
    const deps = await createDeps(kv, config, { log: createLogger(undefined, "warn") });
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
    return secret;
  } finally {
    kv.close();
  }
}

export async function run(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kleis-bench-" });
  const kvPath = `${dir}/kleis.db`;
  const secret = await seed(kvPath);
  const server = await spawnKleisMain({
    ADMIN_TOKEN,
    KLEIS_ENCRYPTION_KEY: ENCRYPTION_KEY,
    KLEIS_KV_PATH: kvPath,
    KLEIS_MODELS_DEV_URL: `${CLOSED}/api.json`,
    KLEIS_UPSTREAM_GITHUB: CLOSED,
    KLEIS_UPSTREAM_GITHUB_API: CLOSED,
    KLEIS_UPSTREAM_COPILOT: CLOSED,
    KLEIS_UPSTREAM_OPENAI_AUTH: CLOSED,
    KLEIS_UPSTREAM_CHATGPT: CLOSED,
    KLEIS_UPSTREAM_CLAUDE_AI: CLOSED,
    KLEIS_UPSTREAM_CLAUDE_PLATFORM: CLOSED,
    KLEIS_UPSTREAM_ANTHROPIC: CLOSED,
  }, benchServerFlags());
  const base = server.url;
  try {
    const withKey = { headers: { authorization: `Bearer ${secret}` } };
    const res = await fetch(`${base}/v1/models`, withKey);
    const listed = await res.json();
    if (res.status !== 200 || !Array.isArray(listed.data) || listed.data.length === 0) {
      throw new Error(`/v1/models answered ${res.status}: ${JSON.stringify(listed)}`);
    }
    console.log(`/v1/models lists ${listed.data.length} models (Kleis pid ${server.pid})`);
    // One slice of load; its CPU is the server process's over the slice.
    const load = async (label: string, path: string, init: RequestInit | undefined, ms: number) => {
      const cpuBefore = await processCpuUs(server.pid);
      const r = await runLoad(label, {
        url: base + path,
        ...(init ? { init } : {}),
        concurrency: CONCURRENCY,
        durationMs: ms,
      });
      const cpu = (await processCpuUs(server.pid)) - cpuBefore;
      return { ...r, cpuUsPerRequest: cpu / Math.max(1, r.requests) };
    };

    await load("warm-up healthz", "/healthz", undefined, WARMUP_MS);
    await load("warm-up models", "/v1/models", withKey, WARMUP_MS);

    // Interleave ROUNDS slices, alternating the order, so drift (CPU frequency, GC,
    // other work on the machine) hits both routes alike.
    const routes: [string, string, RequestInit | undefined][] = [
      ["GET /healthz", "/healthz", undefined],
      ["GET /v1/models (key+rpm)", "/v1/models", withKey],
    ];
    const slices: LoadResult[][] = routes.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < routes.length; k++) {
        const i = (round + k) % routes.length;
        const [label, path, init] = routes[i]!;
        slices[i]!.push(await load(label, path, init, DURATION_MS / ROUNDS));
      }
    }
    const [health, models] = slices.map((s) => s.reduce(mergeResults)) as [LoadResult, LoadResult];

    console.log(
      `\n== auth bench: ${CONCURRENCY} clients, ${DURATION_MS} ms per route, Kleis in its own process (cpu = server process) ==`,
    );
    for (const r of [health, models]) console.log(formatResult(r));
    const ratio = models.rps / health.rps;
    const delta = models.p50Ms - health.p50Ms;
    const verdict = ratio >= 0.9 && delta <= 0.3 ? "meets" : "misses";
    const cpu = models.cpuUsPerRequest - health.cpuUsPerRequest;
    console.log(
      `${models.label}: throughput ${ratio.toFixed(3)}× healthz, p50 ${delta >= 0 ? "+" : ""}${
        delta.toFixed(3)
      } ms (${verdict} ≥0.9× and ≤+0.3 ms); server CPU ${cpu >= 0 ? "+" : ""}${
        cpu.toFixed(0)
      } µs/request`,
    );
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await run();

/**
 * Proxy overhead, measured in one run against the same loopback backend
 * (bench/proxy_bench_servers.ts, a Copilot chat stand-in), each server in its
 * own process and the load generator in this one:
 *
 *   (a) the backend called directly
 *   (b) a bare Deno fetch pass-through (10 lines; the ceiling for any proxy here)
 *   (c) Kleis (main.ts): key auth, limits (high requestsPerMinute), account
 *       selection, usage capture, POST /copilot/v1/chat/completions
 *
 * 32 concurrent clients, non-streaming and streaming (20 SSE events): rps,
 * p50/p99 latency, time to first byte (first body chunk). Then the resident
 * memory of the Kleis process with 1000 concurrent open streams, and the KV
 * writes per proxied request (an in-process Kleis app over a KV that counts
 * writes: set, delete, atomic commits, enqueue).
 */
import { createDeps } from "../src/deps.ts";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { createApp } from "../src/app.ts";
import { saveLogin } from "../src/accounts/repository.ts";
import { createApiKey } from "../src/keys/service.ts";
import { flushUsage } from "../src/usage/record.ts";
import { Runtime } from "../src/runtime.ts";
import {
  type KleisProcess as Proc,
  type LoadResult,
  mergeResults,
  processCpuUs,
  runLoad,
  spawnDeno,
  spawnKleisMain,
} from "./support.ts";
import { openKv } from "../src/kv/open.ts";

const CONCURRENCY = 32;
const DURATION_MS = Number(Deno.env.get("BENCH_DURATION_MS") ?? 4000);
const OPEN_STREAMS = Number(Deno.env.get("BENCH_OPEN_STREAMS") ?? 1000);
/** E.g. "--max-semi-space-size=1": V8 flags for the Kleis process. */
const KLEIS_V8_FLAGS = Deno.env.get("BENCH_KLEIS_V8_FLAGS") ?? "";
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdefghijklmnop";
const ENCRYPTION_KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(3)));
const SERVERS = new URL("./proxy_bench_servers.ts", import.meta.url).pathname;

/** Runs a bench server script; its first output line ends with its port. */
export async function spawn(args: string[], env: Record<string, string> = {}): Promise<Proc> {
  const child = await spawnDeno(args, env, /^[^\n]*?(\d+)\s*\n/);
  return { url: `http://127.0.0.1:${child.ready[1]}`, pid: child.pid, stop: () => child.stop() };
}

export function startKleis(
  kvPath: string,
  backendUrl: string,
  extraArgs: string[] = [],
): Promise<Proc> {
  return spawnKleisMain({
    ADMIN_TOKEN,
    KLEIS_ENCRYPTION_KEY: ENCRYPTION_KEY,
    KLEIS_KV_PATH: kvPath,
    KLEIS_UPSTREAM_COPILOT: backendUrl,
  }, [...(KLEIS_V8_FLAGS ? [`--v8-flags=${KLEIS_V8_FLAGS}`] : []), ...extraArgs]);
}

/** Seeds a KV file with one Copilot account and one key; returns the key's secret. */
export async function seed(kvPath: string, backendUrl: string, kv?: Deno.Kv): Promise<string> {
  const own = kv ?? await openKv(kvPath);
  const config = loadConfig({ KLEIS_KV_PATH: kvPath, KLEIS_UPSTREAM_COPILOT: backendUrl }, {
    adminToken: ADMIN_TOKEN,
    encryptionKey: ENCRYPTION_KEY,
  });
  const deps = await createDeps(own, config, { log: createLogger(undefined, "error") });
  await saveLogin(deps, "copilot", {
    tokens: { accessToken: "gho_benchAccountToken000000000000000000" },
    identity: { externalId: "bench-user", label: "bench" },
  }, { source: "bench" });
  const { secret } = await createApiKey(deps, {
    label: "bench",
    limits: { requestsPerMinute: 100_000_000 },
  });
  if (!kv) own.close();
  return secret;
}

/** One slice of load: POST chat completions through `url`, read to the end. */
export function load(
  label: string,
  url: string,
  headers: Record<string, string>,
  stream: boolean,
  durationMs: number,
  concurrency = CONCURRENCY,
): Promise<LoadResult> {
  return runLoad(label, {
    url,
    init: {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({
        model: "gpt-4.1",
        stream,
        messages: [{ role: "user", content: "Say hello." }],
      }),
    },
    concurrency,
    durationMs,
  });
}

const f = (n: number, d = 2) => n.toFixed(d);

function row(r: LoadResult): string {
  return `  ${r.label.padEnd(26)} ${f(r.rps, 0).padStart(7)} req/s  p50 ${f(r.p50Ms)} ms  p99 ${
    f(r.p99Ms)
  } ms  ttfb p50 ${f(r.ttfb50Ms)} ms  p99 ${
    f(r.ttfb99Ms)
  } ms  (${r.requests} req, ${r.errors} errors)`;
}

export async function memory(pid: number): Promise<{ rssMb: number; hwmMb: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
}

/** Opens `count` streams through Kleis that the backend keeps open; returns a closer. */
export async function openStreams(url: string, secret: string, count: number) {
  const controllers: AbortController[] = [];
  const body = JSON.stringify({ model: "hold", stream: true, messages: [] });
  let opened = 0;
  const open = async () => {
    const controller = new AbortController();
    controllers.push(controller);
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
      body,
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    opened++;
    reader.read().catch(() => {});
  };
  for (let i = 0; i < count; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - i) }, open));
  }
  return {
    opened: () => opened,
    close: () => controllers.forEach((c) => c.abort()),
  };
}

/** A Deno.Kv whose writes are counted. */
function countingKv(kv: Deno.Kv): { kv: Deno.Kv; writes: () => number } {
  let writes = 0;
  const wrapped = new Proxy(kv, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop === "set" || prop === "delete" || prop === "enqueue") {
        return (...args: unknown[]) => {
          writes++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      if (prop === "atomic") {
        // A proxy over the operation, never a patched `commit`: a KV wrapper
        // below (src/kv/open.ts) may itself call `commit` on the operation.
        return () => {
          const op = target.atomic();
          const counted: Deno.AtomicOperation = new Proxy(op, {
            get(_, name) {
              const member = Reflect.get(op, name, op);
              if (name === "commit") {
                return () => {
                  writes++;
                  return op.commit();
                };
              }
              if (typeof member !== "function") return member;
              // Builder calls (check, set, ...) return the operation: keep counting it.
              return (...args: unknown[]) => {
                const result = member.apply(op, args);
                return result === op ? counted : result;
              };
            },
          });
          return counted;
        };
      }
      return value.bind(target);
    },
  });
  return { kv: wrapped, writes: () => writes };
}

export async function kvWritesPerRequest(
  backendUrl: string,
): Promise<{ json: number; stream: number }> {
  const dir = await Deno.makeTempDir({ prefix: "kleis-bench-kv-" });
  const path = `${dir}/kleis.db`;
  const raw = await openKv(path);
  const counting = countingKv(raw);
  const secret = await seed(path, backendUrl, raw);
  const config = loadConfig({ KLEIS_KV_PATH: path, KLEIS_UPSTREAM_COPILOT: backendUrl }, {
    adminToken: ADMIN_TOKEN,
    encryptionKey: ENCRYPTION_KEY,
  });
  // Each request's usage is sent on its own (as on an idle server): the
  // worst case for writes per request, and flushUsage() need not wait out
  // the sender's interval after every request. (Only this in-process app;
  // the Kleis process keeps its own default.)
  const deps = await createDeps(counting.kv, config, {
    log: createLogger(undefined, "error"),
    runtime: new Runtime({ usageSendIntervalMs: 0 }),
  });
  const app = createApp(deps);
  const measure = async (stream: boolean, n: number) => {
    // Warm the caches first, as a running instance has them warm.
    const send = async () => {
      const res = await app.fetch(
        new Request("http://kleis/copilot/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
          body: JSON.stringify({ model: "gpt-4.1", stream, messages: [] }),
        }),
      );
      await res.arrayBuffer();
    };
    await send();
    await flushUsage(deps);
    const before = counting.writes();
    for (let i = 0; i < n; i++) {
      await send();
      await flushUsage(deps);
    }
    return (counting.writes() - before) / n;
  };
  const json = await measure(false, 200);
  const stream = await measure(true, 200);
  raw.close();
  await Deno.remove(dir, { recursive: true });
  return { json, stream };
}

export async function run(): Promise<void> {
  console.log(
    `\n== proxy: ${CONCURRENCY} clients, ${DURATION_MS} ms per case (2 interleaved rounds) ==`,
  );
  const backend = await spawn([SERVERS, "backend"]);
  const passthrough = await spawn([SERVERS, "passthrough", backend.url]);
  const dir = await Deno.makeTempDir({ prefix: "kleis-bench-proxy-" });
  const kvPath = `${dir}/kleis.db`;
  const secret = await seed(kvPath, backend.url);
  const kleis = await startKleis(kvPath, backend.url);
  try {
    const auth = { authorization: `Bearer ${secret}` };
    const targets = [
      {
        label: "(a) backend direct",
        url: `${backend.url}/chat/completions`,
        headers: {},
        pid: backend.pid,
      },
      {
        label: "(b) bare pass-through",
        url: `${passthrough.url}/chat/completions`,
        headers: {},
        pid: passthrough.pid,
      },
      {
        label: "(c) Kleis",
        url: `${kleis.url}/copilot/v1/chat/completions`,
        headers: auth,
        pid: kleis.pid,
      },
    ];

    // Memory first, on fresh processes: Kleis, and (b) for reference.
    const held = async (pid: number, url: string) => {
      const idle = await memory(pid);
      const streams = await openStreams(url, secret, OPEN_STREAMS);
      await new Promise((r) => setTimeout(r, 300));
      const open = await memory(pid);
      streams.close();
      await new Promise((r) => setTimeout(r, 500));
      return { idle, open, opened: streams.opened() };
    };
    const kleisMemory = await held(kleis.pid, targets[2]!.url);
    const passMemory = await held(passthrough.pid, targets[1]!.url);
    if (Deno.env.get("BENCH_ONLY") === "memory") {
      console.log(JSON.stringify({ kleisMemory, passMemory }));
      return;
    }

    for (const t of targets) await load(t.label, t.url, t.headers, false, 800);
    const results: Record<string, LoadResult[]> = {};
    /** CPU µs the serving process used per case: steadier than rps on a shared machine. */
    const cpu: Record<string, number> = {};
    for (const stream of [false, true]) {
      for (let round = 0; round < 2; round++) {
        for (const t of targets) {
          const c0 = await processCpuUs(t.pid);
          const r = await load(t.label, t.url, t.headers, stream, DURATION_MS / 2);
          cpu[`${stream}:${t.label}`] = (cpu[`${stream}:${t.label}`] ?? 0) +
            (await processCpuUs(t.pid) - c0);
          (results[`${stream}:${t.label}`] ??= []).push(r);
        }
      }
    }
    for (const stream of [false, true]) {
      console.log(stream ? "streaming (20 SSE events):" : "non-streaming (JSON):");
      const merged = targets.map((t) => {
        const [x, y] = results[`${stream}:${t.label}`]!;
        return mergeResults(x!, y!);
      });
      for (const r of merged) {
        console.log(
          `${row(r)}  ${f(cpu[`${stream}:${r.label}`]! / r.requests, 0)} µs CPU/req in the server`,
        );
      }
      const [, b, c] = merged as [LoadResult, LoadResult, LoadResult];
      console.log(
        `  Kleis vs (b): ${f(c.rps / b.rps)}x throughput (target ≥ 0.90), ` +
          `+${f(c.p50Ms - b.p50Ms)} ms p50 (≤ 0.5), +${f(c.p99Ms - b.p99Ms)} ms p99 (≤ 3), ` +
          `+${f(c.ttfb50Ms - b.ttfb50Ms)} ms ttfb p50 (≤ 1)`,
      );
    }
    // Added latency without queueing: one client at a time.
    for (const stream of [false, true]) {
      console.log(`one client, ${stream ? "streaming" : "non-streaming"}:`);
      const single = [];
      for (const t of targets) {
        single.push(await load(t.label, t.url, t.headers, stream, DURATION_MS / 4, 1));
      }
      for (const r of single) console.log(row(r));
      const [, b, c] = single as [LoadResult, LoadResult, LoadResult];
      console.log(
        `  Kleis vs (b): +${f(c.p50Ms - b.p50Ms)} ms p50, +${f(c.p99Ms - b.p99Ms)} ms p99, ` +
          `+${f(c.ttfb50Ms - b.ttfb50Ms)} ms ttfb p50`,
      );
    }
    const mem = (m: typeof kleisMemory) =>
      `idle ${f(m.idle.rssMb, 1)} MB RSS; with ${m.opened} open streams ${
        f(m.open.rssMb, 1)
      } MB RSS, peak ${f(m.open.hwmMb, 1)} MB`;
    console.log(`memory: Kleis ${mem(kleisMemory)} (target ≤ 150 MB)`);
    console.log(`        (b) ${mem(passMemory)}`);
    const writes = await kvWritesPerRequest(backend.url);
    console.log(
      `KV writes per proxied request (sequential, caches warm): JSON ${f(writes.json)}, ` +
        `streaming ${f(writes.stream)} (target ≤ 2)`,
    );
  } finally {
    await kleis.stop();
    await passthrough.stop();
    await backend.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await run();

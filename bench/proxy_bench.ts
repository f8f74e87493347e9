/**
 * Proxy overhead, measured in one run against the same loopback backend
 * (bench/proxy_bench_servers.ts, a Copilot chat stand-in), each server in its
 * own process and the load generator in this one:
 *
 *   (a) the backend called directly (once, for scale)
 *   (b) a bare Deno fetch pass-through (10 lines; the ceiling for any proxy here)
 *   (e) the same with its answer relayed through a bare JS stream (the floor
 *       of any stream layer that reads the bytes; SSE and memory only)
 *   (c) Kleis (main.ts): key auth, limits (high requestsPerMinute), account
 *       selection, usage capture, POST /copilot/v1/chat/completions
 *   (d) Kleis translating: the same backend reached as Anthropic Messages
 *       (POST /v1/messages, model copilot/gpt-4.1): the request is
 *       translated to Chat Completions and the answer (JSON or each SSE
 *       event) back to Messages; its server CPU per request is compared
 *       with (c)'s (target ≤ 1.3×)
 *
 * (b) and (c) side by side in interleaved rounds (bench/proxy_compare.ts,
 * medians): JSON and 20-event SSE at 32 connections, JSON at 1 connection;
 * req/s, p50/p99 latency, server CPU per request (from /proc). Then the
 * resident memory of each with 1000 open streams, the cold start to the
 * first proxied answer, the ratios with their targets (PASS/FAIL), and the
 * KV writes per proxied request (an in-process Kleis app over a KV that
 * counts writes: set, delete, atomic commits, enqueue).
 *
 * Env: BENCH_DURATION_MS (load per target, case and round; 1500),
 * BENCH_ROUNDS (5), BENCH_OPEN_STREAMS (1000), BENCH_ONLY (memory |
 * translation), BENCH_KLEIS_V8_FLAGS.
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
import {
  type CaseFigures,
  caseRow,
  coldStart,
  compareCase,
  type CompareTarget,
  type LoadFn,
  printVerdicts,
  verdict,
} from "./proxy_compare.ts";
import { openKv } from "../src/kv/open.ts";

const CONCURRENCY = 32;
/** Milliseconds of load per target, case and round. */
const DURATION_MS = Number(Deno.env.get("BENCH_DURATION_MS") ?? 1500);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const TRANSLATION_ROUNDS = 4;
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

const chatBody = (stream: boolean) => ({
  model: "gpt-4.1",
  stream,
  messages: [{ role: "user", content: "Say hello." }],
});

/** The same question as Anthropic Messages, for the translating route. */
const messagesBody = (stream: boolean) => ({
  model: "copilot/gpt-4.1",
  max_tokens: 256,
  stream,
  messages: [{ role: "user", content: "Say hello." }],
});

/** One slice of load: POST chat completions (or `body`) through `url`, read to the end. */
export function load(
  label: string,
  url: string,
  headers: Record<string, string>,
  stream: boolean,
  durationMs: number,
  concurrency = CONCURRENCY,
  body: (stream: boolean) => unknown = chatBody,
): Promise<LoadResult> {
  return runLoad(label, {
    url,
    init: {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body(stream)),
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

interface Target {
  label: string;
  url: string;
  headers: Record<string, string>;
  pid: number;
}

/**
 * Server CPU per request of the translating route against the native one
 * on the same backend, JSON and 20-event SSE, interleaved in one run.
 */
async function translationCpu(native: Target, translated: Target): Promise<void> {
  const cases = [
    { target: native, body: chatBody },
    { target: translated, body: messagesBody },
  ];
  for (const c of cases) {
    await load(c.target.label, c.target.url, c.target.headers, false, 500, CONCURRENCY, c.body);
  }
  for (const stream of [false, true]) {
    const cpu = [0, 0];
    const requests = [0, 0];
    const results: LoadResult[][] = [[], []];
    // More, shorter interleaved rounds than above: the ratio is what counts, and
    // on a shared machine interleaving spreads other load over both routes.
    for (let round = 0; round < TRANSLATION_ROUNDS; round++) {
      for (const [i, c] of cases.entries()) {
        const c0 = await processCpuUs(c.target.pid);
        const r = await load(
          c.target.label,
          c.target.url,
          c.target.headers,
          stream,
          DURATION_MS / 2,
          CONCURRENCY,
          c.body,
        );
        cpu[i]! += await processCpuUs(c.target.pid) - c0;
        requests[i]! += r.requests;
        results[i]!.push(r);
        if (r.errors > 0) console.log(`  (${r.errors} errors in ${c.target.label})`);
      }
    }
    const perRequest = cpu.map((us, i) => us / Math.max(1, requests[i]!));
    console.log(`translation, ${stream ? "streaming (20 SSE events)" : "non-streaming (JSON)"}:`);
    for (const i of [0, 1]) {
      const merged = results[i]!.reduce((a, b) => mergeResults(a, b));
      console.log(`${row(merged)}  ${f(perRequest[i]!, 0)} µs CPU/req in the server`);
    }
    console.log(
      `  translating vs native: ${
        f(perRequest[1]! / perRequest[0]!)
      }x server CPU per request (target ≤ 1.30)`,
    );
  }
}

export async function run(): Promise<void> {
  console.log(
    `\n== proxy: the bare pass-through and Kleis side by side, ${ROUNDS} interleaved rounds ` +
      `of ${DURATION_MS} ms per case (medians) ==`,
  );
  const backend = await spawn([SERVERS, "backend"]);
  const passthrough = await spawn([SERVERS, "passthrough", backend.url]);
  const relay = await spawn([SERVERS, "relay", backend.url]);
  const dir = await Deno.makeTempDir({ prefix: "kleis-bench-proxy-" });
  const kvPath = `${dir}/kleis.db`;
  const secret = await seed(kvPath, backend.url);
  const kleis = await startKleis(kvPath, backend.url);
  try {
    const auth = { authorization: `Bearer ${secret}` };
    const direct: CompareTarget = {
      label: "(a) backend direct",
      url: `${backend.url}/chat/completions`,
      headers: {},
      pid: backend.pid,
    };
    const pass: CompareTarget = {
      label: "(b) bare pass-through",
      url: `${passthrough.url}/chat/completions`,
      headers: {},
      pid: passthrough.pid,
    };
    const floor: CompareTarget = {
      label: "(e) bare JS relay",
      url: `${relay.url}/chat/completions`,
      headers: {},
      pid: relay.pid,
    };
    const own: CompareTarget = {
      label: "(c) Kleis",
      url: `${kleis.url}/copilot/v1/chat/completions`,
      headers: auth,
      pid: kleis.pid,
    };
    const translated = {
      label: "(d) Kleis translating",
      url: `${kleis.url}/v1/messages`,
      headers: auth,
      pid: kleis.pid,
    };
    if (Deno.env.get("BENCH_ONLY") === "translation") {
      await translationCpu(own, translated);
      return;
    }

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
    const kleisMemory = await held(kleis.pid, own.url);
    const passMemory = await held(passthrough.pid, pass.url);
    const relayMemory = await held(relay.pid, floor.url);
    const mem = (m: typeof kleisMemory) =>
      `idle ${f(m.idle.rssMb, 1)} MB RSS; with ${m.opened} open streams ${
        f(m.open.rssMb, 1)
      } MB RSS, peak ${f(m.open.hwmMb, 1)} MB`;
    console.log(`memory: (c) Kleis ${mem(kleisMemory)}`);
    console.log(`        (b) pass-through ${mem(passMemory)}`);
    console.log(`        (e) bare JS relay ${mem(relayMemory)}`);
    if (Deno.env.get("BENCH_ONLY") === "memory") return;

    const slice: LoadFn = (t, stream, ms, concurrency) =>
      load(t.label, t.url, t.headers, stream, ms, concurrency);
    for (const t of [direct, pass, own]) await slice(t, false, 800, CONCURRENCY);
    const rounds = { rounds: ROUNDS, durationMs: DURATION_MS };
    const json = await compareCase([pass, own], slice, {
      stream: false,
      concurrency: CONCURRENCY,
      ...rounds,
    });
    const sse = await compareCase([pass, own, floor], slice, {
      stream: true,
      concurrency: CONCURRENCY,
      ...rounds,
    });
    const single = await compareCase([pass, own], slice, {
      stream: false,
      concurrency: 1,
      rounds: ROUNDS,
      durationMs: DURATION_MS / 2,
    });
    // The backend alone, once, for scale.
    const backendJson = await compareCase([direct], slice, {
      stream: false,
      concurrency: CONCURRENCY,
      rounds: 1,
      durationMs: DURATION_MS / 2,
    });
    const backendSse = await compareCase([direct], slice, {
      stream: true,
      concurrency: CONCURRENCY,
      rounds: 1,
      durationMs: DURATION_MS / 2,
    });
    console.log(`non-streaming (JSON), ${CONCURRENCY} connections:`);
    for (const c of [...backendJson, ...json]) console.log(caseRow(c));
    console.log(`streaming (20 SSE events), ${CONCURRENCY} connections:`);
    for (const c of [...backendSse, ...sse]) console.log(caseRow(c));
    console.log("non-streaming (JSON), 1 connection:");
    for (const c of single) console.log(caseRow(c, false));

    const coldFor = async (label: string, start: () => Promise<Proc>, path: string) => {
      const ms = await coldStart(start, async () => {
        const proc = started;
        if (!proc) throw new Error("not started");
        return await fetch(`${proc.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...auth },
          body: JSON.stringify(chatBody(false)),
        });
      });
      console.log(
        `  ${label.padEnd(24)} ${f(ms, 0)} ms from process start to the first proxied answer`,
      );
      return ms;
    };
    let started: Proc | undefined;
    const track = (p: Promise<Proc>) => p.then((proc) => started = proc);
    console.log("cold start:");
    const passCold = await coldFor(
      "(b) bare pass-through",
      () => track(spawn([SERVERS, "passthrough", backend.url])),
      "/chat/completions",
    );
    started = undefined;
    const kleisCold = await coldFor(
      "(c) Kleis",
      () => track(startKleis(kvPath, backend.url)),
      "/copilot/v1/chat/completions",
    );

    const [pj, kj] = json as [CaseFigures, CaseFigures];
    const [ps, ks, fs] = sse as [CaseFigures, CaseFigures, CaseFigures];
    const [p1, k1] = single as [CaseFigures, CaseFigures];
    printVerdicts([
      verdict("server CPU per JSON request", kj.cpuUs / pj.cpuUs, "≤", 1.5),
      verdict("server CPU per 20-event SSE stream", ks.cpuUs / ps.cpuUs, "≤", 1.8),
      verdict(`JSON throughput at ${CONCURRENCY} connections`, kj.rps / pj.rps, "≥", 0.7),
      verdict("added p50 at 1 connection (JSON)", k1.p50Ms - p1.p50Ms, "≤", 0.2, " ms"),
      verdict(
        `RSS with ${kleisMemory.opened} open streams`,
        kleisMemory.open.rssMb,
        "≤",
        150,
        " MB",
      ),
    ]);
    console.log(
      `  also: SSE throughput ${f(ks.rps / ps.rps)}x, JSON p99 at ${CONCURRENCY} connections ` +
        `+${f(kj.p99Ms - pj.p99Ms)} ms, at 1 connection +${f(k1.p99Ms - p1.p99Ms)} ms; ` +
        `RSS with open streams ${f(kleisMemory.open.rssMb / passMemory.open.rssMb)}x the ` +
        `pass-through's; cold start ${f(kleisCold / passCold)}x (+${
          f(kleisCold - passCold, 0)
        } ms)`,
    );
    console.log(
      `  floor of any JS stream layer, (e) vs (b): SSE CPU ${f(fs.cpuUs / ps.cpuUs)}x, RSS with ` +
        `open streams ${f(relayMemory.open.rssMb - relayMemory.idle.rssMb, 1)} MB over idle vs ` +
        `${f(passMemory.open.rssMb - passMemory.idle.rssMb, 1)} MB (Kleis: ` +
        `${f(kleisMemory.open.rssMb - kleisMemory.idle.rssMb, 1)} MB over its idle ` +
        `${f(kleisMemory.idle.rssMb, 1)} MB)`,
    );
    await translationCpu(own, translated);
    const writes = await kvWritesPerRequest(backend.url);
    console.log(
      `KV writes per proxied request (sequential, caches warm): JSON ${f(writes.json)}, ` +
        `streaming ${f(writes.stream)} (target ≤ 2)`,
    );
  } finally {
    await kleis.stop();
    await passthrough.stop();
    await relay.stop();
    await backend.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await run();

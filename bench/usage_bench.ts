/**
 * Cost of usage analytics on request throughput, same run, same machine.
 *
 * A server process (this file with `serve`) runs a small Hono app on a real
 * file KV with the usage consumer listening; 32 concurrent clients in the
 * bench process hammer it for a few seconds per mode. Modes:
 *   off      — no usage recording
 *   on       — recordUsage() per request (the shipped group-commit sender)
 *   listen   — no recording, but the consumer listening (its idle cost)
 *   naive    — one kv.enqueue per request and one consumer commit per event
 *              (what a message per request costs; kept to justify batching)
 * Each mode runs on two app shapes: "bare" (answer JSON only) and "proxy-like"
 * (one KV atomic sum per request, as the proxy's limit check does).
 * After each "on" run the bench checks that every request was counted.
 */
import { Hono } from "hono";
import { createDeps } from "../src/deps.ts";
import { testConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { keys } from "../src/kv/keys.ts";
import { configureUsageSender, flushUsage, recordUsage } from "../src/usage/record.ts";
import { startUsageConsumer } from "../src/usage/consumer.ts";
import { ingestEvents } from "../src/usage/ingest.ts";
import { queryUsage } from "../src/usage/query.ts";
import type { UsageEvent } from "../src/usage/types.ts";

type Mode = "off" | "listen" | "on" | "naive";
type Shape = "bare" | "proxy-like";

const CONCURRENCY = 32;
const WARMUP_MS = 800;
const MEASURE_MS = Number(Deno.env.get("USAGE_BENCH_MS") ?? 4000);

async function serve(mode: Mode, shape: Shape, port: number, kvPath: string) {
  const interval = Deno.env.get("USAGE_SEND_INTERVAL_MS");
  if (interval !== undefined) configureUsageSender({ minSendIntervalMs: Number(interval) });
  const kv = await Deno.openKv(kvPath);
  const deps = await createDeps(kv, testConfig({ kvPath }), {
    log: createLogger(() => {}, "error"),
  });
  if (mode === "on" || mode === "listen") startUsageConsumer(deps);
  if (mode === "naive") {
    kv.listenQueue(async (message) => {
      const event = message as UsageEvent;
      await ingestEvents(deps, event.id, [event]);
    });
  }
  let n = 0;
  const app = new Hono();
  app.post("/v1/responses", async (c) => {
    const started = performance.now();
    const body = await c.req.json() as { model: string };
    if (shape === "proxy-like") {
      await kv.atomic().sum(keys.requestsInMinute("bench", Math.floor(Date.now() / 60000)), 1n)
        .commit();
    }
    const id = `r${++n}`;
    const event: UsageEvent = {
      id,
      at: Date.now(),
      keyId: `key${n % 3}`,
      accountId: `acct${n % 2}`,
      provider: "codex",
      model: body.model,
      endpoint: "/openai/v1/responses",
      status: 200,
      failure: "none",
      firstByteMs: 1,
      latencyMs: Math.round(performance.now() - started),
      inputTokens: 10,
      outputTokens: 20,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    };
    if (mode === "on") await recordUsage(deps, event);
    if (mode === "naive") await kv.enqueue(event);
    return c.json({ id, output: "ok" });
  });
  app.get("/counted", async (c) => {
    await flushUsage(kv);
    const answer = await queryUsage(deps, { windowMs: 3_600_000 });
    return c.json({ served: n, counted: answer.totals.requests });
  });
  Deno.serve({ port, hostname: "127.0.0.1", onListen: () => console.log("ready") }, app.fetch);
}

/** CPU time (user + system) a process has used, in ms; Linux only, else NaN. */
function cpuMs(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

async function load(url: string, ms: number): Promise<number> {
  const deadline = performance.now() + ms;
  let done = 0;
  const started = performance.now();
  const body = JSON.stringify({ model: "gpt-5", input: "hello" });
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) {
      const response = await fetch(`${url}/v1/responses`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
      await response.arrayBuffer();
      done++;
    }
  }));
  lastCount = done;
  return done / ((performance.now() - started) / 1000);
}

let lastCount = 0;

async function measure(mode: Mode, shape: Shape) {
  const dir = await Deno.makeTempDir({ prefix: "kleis-usage-bench-" });
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-kv",
      import.meta.filename!,
      "serve",
      mode,
      shape,
      String(port),
      `${dir}/kv.db`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (!(await reader.read()).value?.includes("ready")) { /* wait for the listener */ }
  const url = `http://127.0.0.1:${port}`;
  try {
    await load(url, WARMUP_MS);
    const cpuBefore = cpuMs(child.pid);
    const rps = await load(url, MEASURE_MS);
    const requests = lastCount;
    let counted: { served: number; counted: number } | undefined;
    if (mode === "on" || mode === "naive") {
      // Give the consumer time to drain, then check nothing was lost.
      const deadline = Date.now() + 30_000;
      do {
        await new Promise((r) => setTimeout(r, 200));
        counted = await (await fetch(`${url}/counted`)).json();
      } while (counted!.counted < counted!.served && Date.now() < deadline);
    }
    // Server CPU per request, the consumer's catching up included: steadier than
    // throughput on a shared machine.
    const cpuUsPerRequest = (cpuMs(child.pid) - cpuBefore) * 1000 / requests;
    return { rps, counted, cpuUsPerRequest };
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<void> {
  const rounds = Number(Deno.env.get("USAGE_BENCH_ROUNDS") ?? 3);
  const modes = (Deno.env.get("USAGE_BENCH_MODES") ?? "off,on").split(",") as Mode[];
  const shapes = (Deno.env.get("USAGE_BENCH_SHAPES") ?? "bare,proxy-like").split(",") as Shape[];
  for (const shape of shapes) {
    const results = new Map<Mode, number[]>(modes.map((m) => [m, []]));
    const cpu = new Map<Mode, number[]>(modes.map((m) => [m, []]));
    const lost: string[] = [];
    // Interleaved rounds, so drift (thermal, other load) hits every mode alike.
    for (let round = 0; round < rounds; round++) {
      for (const mode of modes) {
        const { rps, counted, cpuUsPerRequest } = await measure(mode, shape);
        results.get(mode)!.push(rps);
        cpu.get(mode)!.push(cpuUsPerRequest);
        if (counted && counted.counted !== counted.served) {
          lost.push(`${mode}: served ${counted.served}, counted ${counted.counted}`);
        }
      }
    }
    const off = median(results.get("off") ?? [0]);
    const offCpu = median(cpu.get("off") ?? [0]);
    for (const mode of modes) {
      const rps = median(results.get(mode)!);
      const cpuUs = median(cpu.get(mode)!);
      const cost = off > 0 ? ((1 - rps / off) * 100).toFixed(1) : "n/a";
      const cpuCost = offCpu > 0 ? ((cpuUs / offCpu - 1) * 100).toFixed(1) : "n/a";
      console.log(
        `usage ${shape.padEnd(10)} ${mode.padEnd(6)} ${rps.toFixed(0).padStart(6)} req/s` +
          ` ${cpuUs.toFixed(1).padStart(6)} us CPU/req` +
          (mode === "off" ? "" : `  (vs off: throughput -${cost} %, server CPU +${cpuCost} %)`) +
          `  [${results.get(mode)!.map((x) => x.toFixed(0)).join(", ")}]`,
      );
    }
    if (lost.length > 0) console.log(`usage ${shape}: COUNT MISMATCH ${lost.join("; ")}`);
    else console.log(`usage ${shape}: every served request was counted`);
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "serve") {
    const [, mode, shape, port, kvPath] = Deno.args;
    await serve(mode as Mode, shape as Shape, Number(port), kvPath!);
  } else {
    await run();
  }
}

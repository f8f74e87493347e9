/**
 * What usage analytics costs the real proxy, analytics on versus off in one
 * run. The target: analytics cost at most 5 % of throughput.
 *
 * Three processes (bench/usage_bench_setup.ts): the backend fakes; Kleis
 * (createApp on a file KV, a Copilot account imported against the fakes, one
 * key with a high requestsPerMinute, the usage consumer listening); and this
 * one, the load generator: 32 closed-loop clients POSTing non-streaming
 * /copilot/v1/chat/completions. Analytics is switched in the warm Kleis
 * process between rounds, interleaved off, on, on, off, off, on, ... (ABBA,
 * so neither mode always goes first) so drift on a shared machine hits both
 * modes alike; the figures are medians, and medians of the per-round pairs.
 *
 * Two figures per round:
 *   - throughput (requests per second): noisy on a shared 2-core machine
 *     (an A/A run, USAGE_BENCH_CONTROL=1, shows differences of up to ~10 %
 *     between identical modes there);
 *   - Kleis CPU per request (process.cpuUsage of the Kleis process over the
 *     round plus a settle period in which the sender and the consumer catch
 *     up, so the consumer's work is charged to "on"): the steadier one.
 *
 * Every round also checks the usage buckets: an "on" round must add exactly
 * as many counted requests as were served, an "off" round none.
 *
 * Environment: USAGE_BENCH_MS (round length, 4000), USAGE_BENCH_ROUNDS
 * (pairs, 5), USAGE_BENCH_CONTROL=1 (A/A), USAGE_SEND_INTERVAL_MS (the
 * sender's interval in the Kleis process).
 */
import { formatResult, type LoadResult, runLoad, spawnDeno } from "./support.ts";
import {
  type FakesReady,
  isolatedAnalyticsCost,
  type IsolatedCost,
  type ProxyReady,
} from "./usage_bench_setup.ts";

const CONCURRENCY = 32;
const ROUND_MS = Number(Deno.env.get("USAGE_BENCH_MS") ?? 4000);
const ROUNDS = Number(Deno.env.get("USAGE_BENCH_ROUNDS") ?? 5);
/** After a round: the sender's last send (≤ 500 ms) and the consumer's commit land within this. */
const SETTLE_MS = 1000;
const WARMUP_MS = 1500;
/**
 * USAGE_BENCH_CONTROL=1: an A/A run, the "on" rounds served with analytics
 * off too, to show how big a difference this machine's noise alone makes.
 */
const CONTROL = Deno.env.get("USAGE_BENCH_CONTROL") === "1";
const SETUP = new URL("./usage_bench_setup.ts", import.meta.url).pathname;

type Mode = "off" | "on";

interface Child {
  ready: unknown;
  pid: number;
  stop(): Promise<void>;
}

/** Runs a setup role as its own process and waits for its one-line JSON "ready". */
async function spawn(args: string[], env: Record<string, string> = {}): Promise<Child> {
  const child = await spawnDeno([SETUP, ...args], env, /^(.*)\n/);
  return {
    ready: JSON.parse(child.ready[1]!),
    pid: child.pid,
    stop: () => child.stop("SIGKILL"),
  };
}

async function getJson<T>(url: string, method = "GET"): Promise<T> {
  const res = await fetch(url, { method });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return await res.json() as T;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

interface Round {
  mode: Mode;
  load: LoadResult;
  cpuUsPerRequest: number;
  /** Requests the usage buckets gained during the round. */
  counted: number;
  /** How long after the settle period the count took to be complete (0: at once). */
  lagMs: number;
}

export async function run(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kleis-usage-bench-" });
  const fakes = await spawn(["fakes"]);
  let proxy: Child | undefined;
  try {
    proxy = await spawn(["proxy", `${dir}/kv.sqlite3`], {
      USAGE_BENCH_FAKES_ENV: JSON.stringify(fakes.ready as FakesReady),
    });
    const { url, controlUrl, apiKey } = proxy.ready as ProxyReady;
    const cpu = async () => (await getJson<{ cpuUs: number }>(`${controlUrl}/cpu`)).cpuUs;
    const counted = async () =>
      (await getJson<{ counted: number }>(`${controlUrl}/counted`)).counted;
    const load = (label: string, durationMs: number) =>
      runLoad(label, {
        url: `${url}/copilot/v1/chat/completions`,
        init: {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({
            model: "gpt-4.1",
            messages: [{ role: "user", content: "Say hello." }],
          }),
        },
        concurrency: CONCURRENCY,
        durationMs,
        expectStatus: 200,
      });

    // Warm both paths (JIT, KV file, connection pools, the consumer) before measuring.
    for (const mode of ["on", "off"] as const) {
      await getJson(`${controlUrl}/mode/${mode}`, "POST");
      const warm = await load(`warmup ${mode}`, WARMUP_MS);
      if (warm.errors > 0) throw new Error(`Warmup failed: ${formatResult(warm)}`);
    }
    await sleep(SETTLE_MS);

    const rounds: Round[] = [];
    let before = await counted();
    for (let i = 0; i < ROUNDS; i++) {
      // off, on, on, off, off, on, ...: neither mode always runs first (ABBA).
      for (const mode of i % 2 === 0 ? ["off", "on"] as const : ["on", "off"] as const) {
        await getJson(`${controlUrl}/mode/${CONTROL ? "off" : mode}`, "POST");
        const cpuBefore = await cpu();
        const result = await load(`usage analytics ${mode}`, ROUND_MS);
        await sleep(SETTLE_MS);
        const cpuUsPerRequest = (await cpu() - cpuBefore) / Math.max(1, result.requests);
        // Checked after the CPU reading, so the query's own work is not charged to the round.
        const expected = mode === "on" && !CONTROL ? result.requests : 0;
        const waitStart = performance.now();
        let after = await counted();
        while (after - before < expected && performance.now() - waitStart < 30_000) {
          await sleep(200);
          after = await counted();
        }
        const lagMs = after - before < expected ? Infinity : performance.now() - waitStart;
        rounds.push({ mode, load: result, cpuUsPerRequest, counted: after - before, lagMs });
        console.log(
          `${formatResult(result)}  kleis cpu ${cpuUsPerRequest.toFixed(0).padStart(4)} µs/req` +
            `  counted ${after - before}`,
        );
        before = after;
      }
    }
    await proxy.stop();
    await fakes.stop();
    // At the rate the "on" rounds reached, with the other processes gone.
    const rate = Math.round(median(rounds.filter((r) => r.mode === "on").map((r) => r.load.rps)));
    const isolated = await isolatedAnalyticsCost(rate, 3000, 3);
    report(rounds, isolated, rate);
  } finally {
    await proxy?.stop();
    await fakes.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function report(rounds: Round[], isolated: IsolatedCost, rate: number): void {
  const of = (mode: Mode) => rounds.filter((r) => r.mode === mode);
  const rps = (mode: Mode) => median(of(mode).map((r) => r.load.rps));
  const cpu = (mode: Mode) => median(of(mode).map((r) => r.cpuUsPerRequest));
  const [offRps, onRps, offCpu, onCpu] = [rps("off"), rps("on"), cpu("off"), cpu("on")];
  // Paired within each round (the two modes seconds apart): less exposed to slow drift.
  const pairedRps = median(of("on").map((r, i) => r.load.rps / of("off")[i]!.load.rps));
  const pairedCpu = median(
    of("on").map((r, i) => r.cpuUsPerRequest / of("off")[i]!.cpuUsPerRequest),
  );
  const mismatches = rounds.filter((r) =>
    r.mode === "on" && !CONTROL ? r.counted !== r.load.requests : r.counted !== 0
  );
  const errors = rounds.reduce((n, r) => n + r.load.errors, 0);
  const lag = Math.max(...of("on").map((r) => r.lagMs));

  const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} %`;
  if (CONTROL) console.log(`usage analytics: A/A CONTROL RUN, analytics off in both modes`);
  console.log(
    `usage analytics: throughput on/off ${(onRps / offRps).toFixed(3)} (medians), ` +
      `${pairedRps.toFixed(3)} (median of per-round pairs); Kleis CPU per request ` +
      `${onCpu.toFixed(0)} vs ${offCpu.toFixed(0)} µs (${pct(onCpu / offCpu - 1)} medians, ` +
      `${pct(pairedCpu - 1)} per-round pairs)`,
  );
  console.log(
    mismatches.length === 0 && errors === 0
      ? `usage analytics: events counted == requests served in every "on" round, none in "off"` +
        ` (count complete ${lag < 50 ? "at once" : `${lag.toFixed(0)} ms`} after the settle)`
      : `usage analytics: COUNT MISMATCH or errors: ${errors} errors; ` +
        mismatches.map((r) => `${r.mode}: served ${r.load.requests}, counted ${r.counted}`)
          .join("; "),
  );
  console.log(
    `usage analytics, isolated: ${isolated.perEventUs.toFixed(1)} µs of CPU per event at ` +
      `${rate} events/s = ${(isolated.perEventUs / offCpu * 100).toFixed(1)} % of Kleis's ` +
      `${offCpu.toFixed(0)} µs per request with analytics off` +
      (isolated.counted === isolated.events
        ? ""
        : ` (COUNT MISMATCH: ${isolated.events} events, ${isolated.counted} counted)`),
  );
  console.log(
    `analytics cost: ${((1 - onRps / offRps) * 100).toFixed(1)} % of throughput ` +
      `(on ${onRps.toFixed(0)} rps / off ${offRps.toFixed(0)} rps)`,
  );
}

if (import.meta.main) {
  if (Deno.args.length > 0) {
    console.error("usage: deno run --allow-all bench/usage_bench.ts");
    Deno.exit(2);
  }
  await run();
}

/**
 * Shared benchmark helpers: a closed-loop load generator (N clients, each
 * sending its next request when the previous answer is fully read), latency
 * percentiles, merging slices of one measurement, and child processes.
 */
import process from "node:process";

export interface LoadOptions {
  url: string;
  init?: RequestInit;
  concurrency: number;
  durationMs: number;
  /** Status every answer must have; others count as errors. */
  expectStatus?: number;
}

export interface LoadResult {
  label: string;
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Time to the first chunk of the answer's body. */
  ttfb50Ms: number;
  ttfb99Ms: number;
  /**
   * CPU time of this whole process (client and server, every thread) per
   * request: steadier than wall-clock figures on a machine shared with
   * other work.
   */
  cpuUsPerRequest: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export async function runLoad(label: string, options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const ttfbs: number[] = [];
  let errors = 0;
  const expect = options.expectStatus ?? 200;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + options.durationMs;
  const client = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const res = await fetch(options.url, options.init);
        const reader = res.body!.getReader();
        let first = true;
        while (true) {
          const { done } = await reader.read();
          if (first) {
            ttfbs.push(performance.now() - t0);
            first = false;
          }
          if (done) break;
        }
        if (res.status !== expect) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  latencies.sort((a, b) => a - b);
  ttfbs.sort((a, b) => a - b);
  return {
    label,
    requests: latencies.length,
    errors,
    rps: latencies.length / (elapsed / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    meanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    ttfb50Ms: percentile(ttfbs, 50),
    ttfb99Ms: percentile(ttfbs, 99),
    cpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, latencies.length),
  };
}

/**
 * Two slices of one measurement (either may already be merged): requests
 * and time add (rps = all requests / all time), p50s and means are weighted
 * by requests (so CPU per request is all CPU / all requests), p99s are the
 * worse of the two.
 */
export function mergeResults(a: LoadResult, b: LoadResult): LoadResult {
  const requests = a.requests + b.requests;
  const weighted = (x: number, y: number) => (x * a.requests + y * b.requests) / requests;
  return {
    label: a.label,
    requests,
    errors: a.errors + b.errors,
    rps: requests / (a.requests / a.rps + b.requests / b.rps),
    p50Ms: weighted(a.p50Ms, b.p50Ms),
    p99Ms: Math.max(a.p99Ms, b.p99Ms),
    meanMs: weighted(a.meanMs, b.meanMs),
    ttfb50Ms: weighted(a.ttfb50Ms, b.ttfb50Ms),
    ttfb99Ms: Math.max(a.ttfb99Ms, b.ttfb99Ms),
    cpuUsPerRequest: weighted(a.cpuUsPerRequest, b.cpuUsPerRequest),
  };
}

export function formatResult(r: LoadResult): string {
  return `${r.label.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} rps  p50 ${
    r.p50Ms.toFixed(3).padStart(7)
  } ms  p99 ${r.p99Ms.toFixed(3).padStart(7)} ms  cpu ${
    r.cpuUsPerRequest.toFixed(0).padStart(4)
  } µs/req  (${r.requests} requests, ${r.errors} errors)`;
}

/**
 * CPU time (user + system, every thread) a process has used so far, in µs,
 * from fields 14 and 15 of /proc/<pid>/stat (clock ticks of 1/100 s, the
 * Linux USER_HZ).
 */
export async function processCpuUs(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

export interface ChildProcess {
  pid: number;
  /** What matched `ready` in the child's output. */
  ready: RegExpExecArray;
  stop(signal?: Deno.Signal): Promise<void>;
}

/**
 * Runs `deno run --allow-all ...args` with `env` (over this process's
 * environment) and resolves once its stdout matches `ready`. Its stdout keeps
 * being drained so it never blocks on a full pipe; its stderr is this
 * process's.
 */
export async function spawnDeno(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", ...args],
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let match: RegExpExecArray | null = null;
  while (!(match = ready.exec(out))) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`${args.join(" ")} exited before it was ready: ${out}`);
    }
    out += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  return {
    pid: child.pid,
    ready: match,
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      await child.status;
    },
  };
}

/**
 * Extra Deno flags for the Kleis server process, from BENCH_SERVER_FLAGS
 * (space-separated), e.g. `--v8-flags=--prof` to profile the server.
 */
export function benchServerFlags(): string[] {
  return (Deno.env.get("BENCH_SERVER_FLAGS") ?? "").split(" ").filter((flag) => flag !== "");
}

export interface KleisProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Runs main.ts in its own process with `env`, PORT=0 and HOSTNAME=127.0.0.1
 * (and any extra Deno flags), and resolves once it prints
 * "Kleis listening on http://127.0.0.1:PORT".
 */
export async function spawnKleisMain(
  env: Record<string, string>,
  denoFlags: string[] = [],
): Promise<KleisProcess> {
  const main = new URL("../main.ts", import.meta.url).pathname;
  const child = await spawnDeno(
    [...denoFlags, main],
    { ...env, PORT: "0", HOSTNAME: "127.0.0.1" },
    /Kleis listening on (http:\/\/127\.0\.0\.1:\d+)/,
  );
  return { url: child.ready[1]!, pid: child.pid, stop: () => child.stop() };
}

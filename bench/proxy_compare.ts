/**
 * The side-by-side comparison of bench/proxy_bench.ts: the bare Deno fetch
 * pass-through and Kleis against the same backend, in interleaved rounds
 * (pass-through, Kleis, pass-through, Kleis, ...; the median of each
 * figure over the rounds), so that other load on a shared machine falls on
 * both alike. Ratios to the pass-through, not absolute numbers, are the
 * result; each is printed with its target.
 */
import { type LoadResult, processCpuUs } from "./support.ts";

export interface CompareTarget {
  label: string;
  url: string;
  headers: Record<string, string>;
  pid: number;
}

/** One slice of load against one target. */
export type LoadFn = (
  target: CompareTarget,
  stream: boolean,
  durationMs: number,
  concurrency: number,
) => Promise<LoadResult>;

/** Medians over the rounds of one case for one target. */
export interface CaseFigures {
  label: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU (user + system, every thread, from /proc) per request. */
  cpuUs: number;
  requests: number;
  errors: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `rounds` interleaved slices of one case on every target; medians per target. */
export async function compareCase(
  targets: CompareTarget[],
  load: LoadFn,
  opts: { stream: boolean; concurrency: number; durationMs: number; rounds: number },
): Promise<CaseFigures[]> {
  const slices: { r: LoadResult; cpuUs: number }[][] = targets.map(() => []);
  for (let round = 0; round < opts.rounds; round++) {
    for (const [i, t] of targets.entries()) {
      const c0 = await processCpuUs(t.pid);
      const r = await load(t, opts.stream, opts.durationMs, opts.concurrency);
      const used = await processCpuUs(t.pid) - c0;
      slices[i]!.push({ r, cpuUs: used / Math.max(1, r.requests) });
    }
  }
  return targets.map((t, i) => {
    const s = slices[i]!;
    return {
      label: t.label,
      rps: median(s.map((x) => x.r.rps)),
      p50Ms: median(s.map((x) => x.r.p50Ms)),
      p99Ms: median(s.map((x) => x.r.p99Ms)),
      cpuUs: median(s.map((x) => x.cpuUs)),
      requests: s.reduce((a, x) => a + x.r.requests, 0),
      errors: s.reduce((a, x) => a + x.r.errors, 0),
    };
  });
}

const f = (n: number, d = 2) => n.toFixed(d);

export function caseRow(c: CaseFigures, withCpu = true): string {
  return `  ${c.label.padEnd(24)} ${f(c.rps, 0).padStart(7)} req/s  p50 ${f(c.p50Ms)} ms  p99 ${
    f(c.p99Ms)
  } ms${
    withCpu ? `  ${f(c.cpuUs, 0).padStart(5)} µs CPU/req` : ""
  }  (${c.requests} req, ${c.errors} errors)`;
}

/** One target line: a measured figure against its limit. */
export interface Verdict {
  name: string;
  value: string;
  target: string;
  pass: boolean;
}

export function verdict(name: string, value: number, op: "≤" | "≥", limit: number, unit = "x") {
  const pass = op === "≤" ? value <= limit : value >= limit;
  return {
    name,
    value: `${f(value)}${unit}`,
    target: `${op} ${limit}${unit}`,
    pass,
  };
}

export function printVerdicts(verdicts: Verdict[]): void {
  console.log("targets (ratios to the pass-through, same run):");
  for (const v of verdicts) {
    console.log(
      `  ${v.pass ? "PASS" : "FAIL"}  ${v.name.padEnd(44)} ${
        v.value.padStart(10)
      }  (target ${v.target})`,
    );
  }
}

/**
 * Milliseconds from starting a server process to its first good answer to
 * `request` (tried again every few ms until it answers 200).
 */
export async function coldStart(
  start: () => Promise<{ stop(): Promise<void> }>,
  request: () => Promise<Response>,
  timeoutMs = 30_000,
): Promise<number> {
  const t0 = performance.now();
  const proc = await start();
  try {
    while (performance.now() - t0 < timeoutMs) {
      try {
        const res = await request();
        await res.arrayBuffer();
        if (res.status === 200) return performance.now() - t0;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error("no answer within the cold start timeout");
  } finally {
    await proc.stop();
  }
}

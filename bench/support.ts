/**
 * Shared benchmark helpers: a closed-loop load generator (N clients, each
 * sending its next request when the previous answer is fully read) and
 * latency percentiles.
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
  /**
   * CPU time of this whole process (client and server, every thread) per
   * request: steadier than wall-clock figures on a machine shared with
   * other work.
   */
  cpuUsPerRequest: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export async function runLoad(label: string, options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
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
        await res.arrayBuffer();
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
  return {
    label,
    requests: latencies.length,
    errors,
    rps: latencies.length / (elapsed / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    meanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    cpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, latencies.length),
  };
}

export function formatResult(r: LoadResult): string {
  return `${r.label.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} rps  p50 ${
    r.p50Ms.toFixed(3).padStart(7)
  } ms  p99 ${r.p99Ms.toFixed(3).padStart(7)} ms  cpu ${
    r.cpuUsPerRequest.toFixed(0).padStart(4)
  } µs/req  (${r.requests} requests, ${r.errors} errors)`;
}

/** A free TCP port on the loopback interface. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

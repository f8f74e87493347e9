import assert from "node:assert/strict";
import type { ProxyBackendFake } from "../fakes/backend.ts";

/**
 * Running a coding-agent CLI in the end-to-end tests: a sandbox of fresh
 * directories per run (nothing read from or written to the developer's own
 * set-up), only the environment the test gives, a time limit; and a stand-in
 * HTTP proxy that records where the CLI tries to go outside Kleis.
 */

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bin args` in `cwd` with only `env`; killed after `timeoutMs`. */
export async function runCli(
  bin: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<CliResult> {
  const child = new Deno.Command(bin, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }, options.timeoutMs ?? 150_000);
  try {
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The first line of `--version` output, or "" when the binary does not run. */
export async function cliVersion(bin: string): Promise<string> {
  try {
    const out = await new Deno.Command(bin, { args: ["--version"], stdout: "piped" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim().split("\n")[0] ?? "" : "";
  } catch {
    return "";
  }
}

export interface OutsideRecorder {
  /** `http://127.0.0.1:<port>`: the value for HTTPS_PROXY / HTTP_PROXY. */
  url: string;
  /** The request line of every attempt: `CONNECT api.example.com:443 HTTP/1.1`. */
  attempts: string[];
  /** The proxy variables that send everything but loopback through the recorder. */
  env: Record<string, string>;
  close(): void;
}

/**
 * A proxy that lets nothing through: it records the first line of each
 * request and closes the connection. With HTTPS_PROXY pointing at it (and
 * loopback exempt), every connection a CLI opens outside Kleis shows up here
 * and fails, as it would on a machine without internet access.
 */
export function outsideRecorder(): OutsideRecorder {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const attempts: string[] = [];
  const serve = async () => {
    for await (const conn of listener) {
      (async () => {
        const buffer = new Uint8Array(4096);
        const n = await conn.read(buffer).catch(() => null);
        attempts.push(new TextDecoder().decode(buffer.subarray(0, n ?? 0)).split("\r\n")[0] ?? "");
        conn.close();
      })().catch(() => {});
    }
  };
  serve().catch(() => {});
  const url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  return {
    url,
    attempts,
    env: {
      HTTPS_PROXY: url,
      https_proxy: url,
      HTTP_PROXY: url,
      http_proxy: url,
      NO_PROXY: "127.0.0.1,localhost",
      no_proxy: "127.0.0.1,localhost",
    },
    close: () => listener.close(),
  };
}

/**
 * The end of an agent CLI test: every answer of `fake` was read to its end
 * (none cancelled by Kleis) and the CLI tried no connection outside Kleis.
 */
export async function assertReadToEndAndOffline(
  fake: ProxyBackendFake,
  outside: OutsideRecorder,
): Promise<void> {
  const answers = await fake.waitForBodyEnds();
  assert.ok(answers.length > 0);
  assert.deepEqual([...new Set(answers.map((r) => r.bodyEnd))], ["completed"]);
  assert.deepEqual(outside.attempts, [], "connections outside Kleis");
}

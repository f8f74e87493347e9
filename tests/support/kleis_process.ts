/**
 * Starts main.ts as a real process on a free port, for end-to-end tests.
 * The process gets its own KV file in a temporary directory unless one is
 * given, and the test's environment (typically the fakes' upstream origins).
 */

export const TEST_ADMIN_TOKEN = "e2e-admin-token-0123456789abcdefghijklmnop";
export const TEST_ENCRYPTION_KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(9)));

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export interface KleisProcess {
  url: string;
  adminToken: string;
  kvPath: string;
  dir: string;
  /** Stdout and stderr collected so far. */
  output(): string;
  /** Graceful stop (SIGTERM) and wait. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startKleis(
  options: { env?: Record<string, string>; kvPath?: string; dir?: string } = {},
): Promise<KleisProcess> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "kleis-e2e-" });
  const kvPath = options.kvPath ?? `${dir}/kleis.db`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--unstable-kv", "--unstable-cron", MAIN],
    env: {
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      KLEIS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      KLEIS_KV_PATH: kvPath,
      // Port 0: the system picks a free port and Kleis prints it, so
      // parallel tests never race for one.
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      ...options.env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let output = "";
  const decoder = new TextDecoder();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  let url = "";

  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const deadline = Date.now() + 15_000;
  while (true) {
    if (exited) throw new Error(`Kleis exited during start-up:\n${output}`);
    // On Deno Deploy (DENO_DEPLOYMENT_ID set) Kleis leaves the address and its line to Deno.serve.
    url ||= output.match(/(?:Kleis listening|^Listening) on (http:\/\/127\.0\.0\.1:\d+)/m)?.[1] ??
      "";
    if (url) {
      try {
        const res = await fetch(`${url}/healthz`);
        await res.body?.cancel();
        if (res.ok) break;
      } catch {
        // not answering yet
      }
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`Kleis did not become healthy within 15 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const end = async (signal: Deno.Signal) => {
    if (!exited) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
    await status;
    await drained;
  };
  return {
    url,
    adminToken: options.env?.ADMIN_TOKEN ?? TEST_ADMIN_TOKEN,
    kvPath,
    dir,
    output: () => output,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    [Symbol.asyncDispose]: () => end("SIGTERM"),
  };
}

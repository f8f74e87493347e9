/**
 * Real forward proxies for the outbound-proxy tests, installed by
 * install_forward_proxies.sh and started per test on loopback: tinyproxy
 * (HTTP, with basic auth and a connection log) and microsocks (SOCKS5 with
 * user name and password). Each connects to backends FROM its own loopback
 * address (tinyproxy's Bind, microsocks' -b), so a backend fake that records
 * the peer address tells a request that went through the proxy from one that
 * did not: direct requests come from 127.0.0.1.
 */

export const HTTP_PROXY_SOURCE = "127.0.0.3";
export const SOCKS_PROXY_SOURCE = "127.0.0.4";

export interface ForwardProxy {
  /** The proxy URL with its credentials. */
  url: string;
  /** The address its connections to backends come from. */
  source: string;
  /** tinyproxy's log (its "Request" lines name each forwarded request); "" for microsocks. */
  log(): Promise<string>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A port that was free a moment ago (the proxies take a port number, not 0). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Waits (bounded) until something accepts TCP connections on the port. */
async function waitForPort(port: number, child: Deno.ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let exited = false;
  child.status.then(() => exited = true);
  while (Date.now() < deadline && !exited) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`${name} did not start on port ${port} (run tests/support/setup.sh).`);
}

/** Starts a proxy process and waits until it listens; returns its stop function. */
async function spawnProxy(
  command: string,
  args: string[],
  port: number,
): Promise<() => Promise<void>> {
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
    })();
  try {
    await waitForPort(port, child, command);
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}

export async function startTinyproxy(
  auth = { username: "kleis", password: "pr0xy-s3cret" },
): Promise<ForwardProxy> {
  const dir = await Deno.makeTempDir({ prefix: "kleis-tinyproxy-" });
  const port = freePort();
  const logFile = `${dir}/tinyproxy.log`;
  await Deno.writeTextFile(
    `${dir}/tinyproxy.conf`,
    [
      `Port ${port}`,
      "Listen 127.0.0.1",
      `Bind ${HTTP_PROXY_SOURCE}`,
      "Timeout 60",
      `LogFile "${logFile}"`,
      "LogLevel Connect",
      `PidFile "${dir}/tinyproxy.pid"`,
      "MaxClients 50",
      "Allow 127.0.0.1",
      `BasicAuth ${auth.username} ${auth.password}`,
      "DisableViaHeader Yes",
    ].join("\n") + "\n",
  );
  const stop = await spawnProxy("tinyproxy", ["-d", "-c", `${dir}/tinyproxy.conf`], port);
  const stopAndClean = async () => {
    await stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return {
    url: `http://${auth.username}:${auth.password}@127.0.0.1:${port}`,
    source: HTTP_PROXY_SOURCE,
    log: () => Deno.readTextFile(logFile).catch(() => ""),
    stop: stopAndClean,
    [Symbol.asyncDispose]: stopAndClean,
  };
}

export async function startMicrosocks(
  auth = { username: "kleis", password: "s0cks-s3cret" },
): Promise<ForwardProxy> {
  const port = freePort();
  const stop = await spawnProxy("microsocks", [
    "-i",
    "127.0.0.1",
    "-p",
    String(port),
    "-b",
    SOCKS_PROXY_SOURCE,
    "-u",
    auth.username,
    "-P",
    auth.password,
  ], port);
  return {
    url: `socks5://${auth.username}:${auth.password}@127.0.0.1:${port}`,
    source: SOCKS_PROXY_SOURCE,
    log: () => Promise.resolve(""),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

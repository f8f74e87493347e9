/**
 * Real servers for the backup targets, on loopback only: s3rver (an
 * S3-compatible server from npm that checks SigV4 signatures, installed by
 * install_s3rver.sh), a bare git repository on disk, and git's own smart
 * HTTP server (git http-backend) behind a token check, for the https path.
 */

const ROOT = new URL("../../", import.meta.url).pathname;
const S3RVER_SCRIPT = new URL("./s3rver.cjs", import.meta.url).pathname;
/** s3rver's built-in account. */
export const S3RVER_KEY = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** The server's storage folder. */
  dir: string;
  /** Object keys the server holds in the bucket (read from its storage folder). */
  keys(): Promise<string[]>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startS3rver(bucket = "kleis-backups"): Promise<S3Server> {
  const dir = await Deno.makeTempDir({ prefix: "kleis-s3rver-" });
  const child = new Deno.Command("node", {
    args: [S3RVER_SCRIPT, dir, bucket],
    env: { NODE_PATH: `${ROOT}.tools/s3rver/node_modules` },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  const deadline = Date.now() + 15_000;
  let port = "";
  while (!port && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    output += value;
    port = /listening on 127\.0\.0\.1:(\d+)/.exec(output)?.[1] ?? "";
  }
  if (!port) {
    child.kill("SIGKILL");
    const err = new TextDecoder().decode((await child.output().catch(() => undefined))?.stderr);
    throw new Error(`s3rver did not start (run tests/support/setup.sh): ${output} ${err}`);
  }
  reader.releaseLock();
  const drain = child.stdout.pipeTo(new WritableStream()).catch(() => {});
  const drainErr = child.stderr.pipeTo(new WritableStream()).catch(() => {});
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    dir,
    async keys() {
      const out: string[] = [];
      const walk = async (path: string, prefix: string) => {
        for await (const entry of Deno.readDir(path)) {
          if (entry.isDirectory) await walk(`${path}/${entry.name}`, `${prefix}${entry.name}/`);
          else if (entry.name.endsWith("._S3rver_object")) {
            out.push(prefix + entry.name.slice(0, -"._S3rver_object".length));
          }
        }
      };
      await walk(`${dir}/${bucket}`, "");
      return out.sort();
    },
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
      await Promise.all([drain, drainErr]);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    ...(cwd ? { cwd } : {}),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

export interface BareRepo {
  /** Path of the bare repository (a git remote). */
  path: string;
  /** File names in the tree of `branch`'s head. */
  files(branch?: string): Promise<string[]>;
  /** Number of commits on `branch`. */
  commits(branch?: string): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function bareRepo(): Promise<BareRepo> {
  const dir = await Deno.makeTempDir({ prefix: "kleis-git-" });
  const path = `${dir}/backups.git`;
  await run("git", ["init", "-q", "--bare", "-b", "main", path]);
  return {
    path,
    async files(branch = "main") {
      return (await run("git", ["-C", path, "ls-tree", "--name-only", branch])).split("\n")
        .filter(Boolean).sort();
    },
    async commits(branch = "main") {
      return Number((await run("git", ["-C", path, "rev-list", "--count", branch])).trim());
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

export interface GitHttpServer {
  /** https-style remote URL of `repo` (plain http on loopback). */
  url: string;
  /** Authorization headers the server saw, in order. */
  authorizations: (string | null)[];
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * git's smart HTTP protocol for one bare repository: git http-backend run
 * as a CGI per request, behind a check of `Authorization: Basic user:token`
 * (401 without it, as a hosted git server answers).
 */
export function gitHttpServer(repo: BareRepo, user: string, token: string): GitHttpServer {
  const root = repo.path.slice(0, repo.path.lastIndexOf("/"));
  const name = repo.path.slice(root.length + 1);
  const expected = `Basic ${btoa(`${user}:${token}`)}`;
  const authorizations: (string | null)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const auth = req.headers.get("authorization");
    authorizations.push(auth);
    if (auth !== expected) {
      return new Response("auth required", {
        status: 401,
        headers: { "www-authenticate": 'Basic realm="git"' },
      });
    }
    const url = new URL(req.url);
    const child = new Deno.Command("git", {
      args: ["http-backend"],
      env: {
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        REQUEST_METHOD: req.method,
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers.get("content-type") ?? "",
        REMOTE_USER: user,
        REMOTE_ADDR: "127.0.0.1",
        ...(req.headers.get("content-encoding")
          ? { HTTP_CONTENT_ENCODING: req.headers.get("content-encoding")! }
          : {}),
        ...(req.headers.get("git-protocol")
          ? { GIT_PROTOCOL: req.headers.get("git-protocol")! }
          : {}),
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const body = new Uint8Array(await req.arrayBuffer());
    const writer = child.stdin.getWriter();
    await writer.write(body);
    await writer.close();
    const out = (await child.output()).stdout;
    // CGI answer: headers, a blank line, the body.
    let split = -1;
    for (let i = 0; i + 3 < out.length; i++) {
      if (out[i] === 13 && out[i + 1] === 10 && out[i + 2] === 13 && out[i + 3] === 10) {
        split = i;
        break;
      }
    }
    const head = new TextDecoder().decode(out.subarray(0, split));
    const headers = new Headers();
    let status = 200;
    for (const line of head.split("\r\n")) {
      const colon = line.indexOf(":");
      const key = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (key.toLowerCase() === "status") status = Number(value.split(" ")[0]);
      else headers.append(key, value);
    }
    return new Response(out.slice(split + 4), { status, headers });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${addr.port}/${name}`,
    authorizations,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

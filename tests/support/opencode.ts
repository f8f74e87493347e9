/**
 * Runs the real OpenCode CLI (npm package `opencode-ai`, installed into
 * .tools/opencode by tests/support/install_opencode.sh) in a sandbox of its
 * own: fresh HOME and XDG directories per run, so nothing is read from or
 * written to the developer's own OpenCode set-up, and no cached models list
 * (OpenCode keeps one per models URL for 5 minutes) leaks between runs.
 */

import { type CliResult, cliVersion, runCli } from "./agent_cli.ts";

export const OPENCODE_VERSION = "1.18.33";

const ROOT = new URL("../../", import.meta.url).pathname;
export const OPENCODE_BIN = `${ROOT}.tools/opencode/node_modules/.bin/opencode`;

export async function opencodeInstalled(): Promise<boolean> {
  return (await cliVersion(OPENCODE_BIN)) === OPENCODE_VERSION;
}

export interface OpencodeSandbox {
  dir: string;
  env: Record<string, string>;
  /** Working directory of the runs (an empty project). */
  cwd: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Fresh directories for one OpenCode session. OpenCode installs
 * `@opencode-ai/plugin` into its config directory on every start unless that
 * directory already has `node_modules/` and a package-lock.json listing every
 * dependency of its package.json (read from its `Npm.install`); so that state
 * is created up front and no run touches the npm registry.
 */
export async function opencodeSandbox(env: Record<string, string>): Promise<OpencodeSandbox> {
  const dir = await Deno.makeTempDir({ prefix: "kleis-opencode-" });
  const paths = {
    HOME: `${dir}/home`,
    XDG_CONFIG_HOME: `${dir}/config`,
    XDG_DATA_HOME: `${dir}/data`,
    XDG_CACHE_HOME: `${dir}/cache`,
    XDG_STATE_HOME: `${dir}/state`,
  };
  for (const path of Object.values(paths)) await Deno.mkdir(path, { recursive: true });
  const configDir = `${paths.XDG_CONFIG_HOME}/opencode`;
  await Deno.mkdir(`${configDir}/node_modules`, { recursive: true });
  const dependencies = { "@opencode-ai/plugin": OPENCODE_VERSION };
  await Deno.writeTextFile(`${configDir}/package.json`, JSON.stringify({ dependencies }));
  await Deno.writeTextFile(
    `${configDir}/package-lock.json`,
    JSON.stringify({
      name: "opencode",
      lockfileVersion: 3,
      requires: true,
      packages: { "": { dependencies } },
    }),
  );
  const cwd = `${dir}/project`;
  await Deno.mkdir(cwd);
  return {
    dir,
    cwd,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...paths,
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      ...env,
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

export type OpencodeResult = CliResult;

/**
 * Runs `opencode <args>` in the sandbox with only its environment; killed after
 * `timeoutMs`. A run takes seconds on a quiet machine; the generous limit is
 * for a machine loaded far past its cores (seen: 60 s was not enough at load 30).
 */
export function runOpencode(
  sandbox: OpencodeSandbox,
  args: string[],
  timeoutMs = 150_000,
): Promise<OpencodeResult> {
  return runCli(OPENCODE_BIN, args, { cwd: sandbox.cwd, env: sandbox.env, timeoutMs });
}

/** The `--format json` event lines of a run (other lines are ignored). */
export function jsonEvents(stdout: string): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const line of stdout.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{")) continue;
    try {
      events.push(JSON.parse(trimmed));
    } catch {
      // not an event line
    }
  }
  return events;
}

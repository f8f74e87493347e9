/**
 * A git remote: each backup is one commit on a branch (a fresh shallow
 * fetch, the new file added, the oldest beyond `keep` removed from the
 * tree, a push). It runs the real `git` program, so it works wherever git
 * can reach the remote (ssh keys, https with a token), but not on Deno
 * Deploy. The token travels as an HTTP header set through git's
 * environment, never in the URL, the command line or a file.
 */
import type { BackupTargetSpec } from "../config.ts";
import {
  backupNames,
  type BackupTarget,
  namesToRemove,
  type TargetOptions,
  withoutSecrets,
  type WriteResult,
} from "./target.ts";

type GitSpec = Extract<BackupTargetSpec, { kind: "git" }>;

export class GitTarget implements BackupTarget {
  readonly description: string;

  constructor(private readonly spec: GitSpec, private readonly options: TargetOptions) {
    this.description = `git:${spec.remote} (branch ${spec.branch})`;
  }

  /** Environment of every git command: no prompts, no user config surprises, the credentials. */
  private env(): Record<string, string> {
    const env: Record<string, string> = {
      GIT_TERMINAL_PROMPT: "0",
      GIT_ASKPASS: "true",
      GIT_AUTHOR_NAME: "Kleis",
      GIT_AUTHOR_EMAIL: "kleis@localhost",
      GIT_COMMITTER_NAME: "Kleis",
      GIT_COMMITTER_EMAIL: "kleis@localhost",
    };
    const config: [string, string][] = [["commit.gpgsign", "false"]];
    if (this.spec.token) {
      const basic = btoa(`${this.spec.tokenUser}:${this.spec.token}`);
      config.push(["http.extraHeader", `Authorization: Basic ${basic}`]);
    }
    env.GIT_CONFIG_COUNT = String(config.length);
    config.forEach(([key, value], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = key;
      env[`GIT_CONFIG_VALUE_${i}`] = value;
    });
    if (this.spec.sshKeyFile) {
      env.GIT_SSH_COMMAND = `ssh -i '${
        this.spec.sshKeyFile.replace(/'/g, "'\\''")
      }' -o IdentitiesOnly=yes -o BatchMode=yes`;
    }
    return env;
  }

  private async git(dir: string, args: string[]): Promise<string> {
    const output = await new Deno.Command("git", {
      args: ["-C", dir, ...args],
      env: this.env(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(this.options.timeoutMs),
    }).output();
    if (output.success) return new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-3).join(" ");
    const secrets = [
      this.spec.token,
      this.spec.token && btoa(`${this.spec.tokenUser}:${this.spec.token}`),
    ];
    throw new Error(
      withoutSecrets(`git ${args[0]} failed: ${stderr || `exit ${output.code}`}`, secrets),
    );
  }

  /**
   * A temporary repository holding the branch's newest commit (checked out)
   * or nothing when the branch does not exist yet; removed after `use`.
   */
  private async withCheckout<T>(use: (dir: string, exists: boolean) => Promise<T>): Promise<T> {
    const dir = await Deno.makeTempDir({ prefix: "kleis-backup-git-" });
    try {
      await this.git(dir, ["init", "-q", "-b", this.spec.branch]);
      await this.git(dir, ["remote", "add", "origin", this.spec.remote]);
      const heads = await this.git(dir, ["ls-remote", "--heads", "origin", this.spec.branch]);
      const exists = heads.includes(`refs/heads/${this.spec.branch}`);
      if (exists) {
        await this.git(dir, ["fetch", "-q", "--depth", "1", "origin", this.spec.branch]);
        await this.git(dir, ["checkout", "-q", "-B", this.spec.branch, "FETCH_HEAD"]);
      }
      return await use(dir, exists);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }

  private static async filesIn(dir: string): Promise<string[]> {
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) if (entry.isFile) names.push(entry.name);
    return backupNames(names);
  }

  write(name: string, data: Uint8Array, keep: number): Promise<WriteResult> {
    return this.withCheckout(async (dir) => {
      await Deno.writeFile(`${dir}/${name}`, data);
      const remove = namesToRemove(await GitTarget.filesIn(dir), keep);
      for (const old of remove) await Deno.remove(`${dir}/${old}`);
      await this.git(dir, ["add", "-A", "."]);
      await this.git(dir, ["commit", "-q", "-m", `Kleis backup ${name}`]);
      // No force: a concurrent push makes this one fail, and the retry starts afresh.
      await this.git(dir, ["push", "-q", "origin", `HEAD:refs/heads/${this.spec.branch}`]);
      return { kept: (await GitTarget.filesIn(dir)).length, removed: remove.length };
    });
  }

  list(): Promise<string[]> {
    return this.withCheckout(async (dir, exists) => exists ? await GitTarget.filesIn(dir) : []);
  }

  read(name: string): Promise<Uint8Array> {
    return this.withCheckout(async (dir) => await Deno.readFile(`${dir}/${name}`));
  }
}

/** Shared set-up of the backup tests: accounts from the fakes, deps whose config names a target. */
import type { BackupConfig, BackupTargetSpec, Config } from "../../src/config.ts";
import type { Deps } from "../../src/deps.ts";
import { accountsEnv, type Env, fixture } from "../accounts/helpers.ts";
import { S3RVER_KEY, type S3Server } from "../support/backup_servers.ts";

/** The same deps with another backup configuration (everything else shared: KV, clock, log). */
export function withBackup<T extends Deps>(deps: T, backup: Partial<BackupConfig>): T {
  const config: Config = Object.freeze({
    ...deps.config,
    backup: Object.freeze({ ...deps.config.backup, ...backup }),
  });
  return Object.assign(Object.create(Object.getPrototypeOf(deps)), deps, { config });
}

export function s3Spec(server: S3Server, prefix = "kleis/"): BackupTargetSpec {
  return {
    kind: "s3",
    endpoint: server.endpoint,
    bucket: server.bucket,
    prefix,
    region: "us-east-1",
    ...S3RVER_KEY,
  };
}

export function gitSpec(remote: string, extra: Partial<BackupTargetSpec> = {}): BackupTargetSpec {
  return {
    kind: "git",
    remote,
    branch: "main",
    token: undefined,
    tokenUser: "x-access-token",
    sshKeyFile: undefined,
    ...extra,
  } as BackupTargetSpec;
}

/** Fakes + deps holding a Codex and a Claude account and one API key record. */
export async function envWithAccounts(): Promise<Env> {
  const env = await accountsEnv();
  for (
    const [provider, file] of [["codex", "codex-auth.json"], ["claude", "claude-credentials.json"]]
  ) {
    const res = await env.admin("POST", `/accounts/${provider}/import`, await fixture(file!));
    if (res.status !== 200) throw new Error(`import ${provider}: ${JSON.stringify(res.json)}`);
  }
  return env;
}

export const NO_WAIT = { retryDelaysMs: [], sleep: () => Promise.resolve(), timeoutMs: 10_000 };

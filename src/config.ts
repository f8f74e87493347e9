/**
 * Configuration: read once from the environment into a typed, frozen object.
 * A bad value throws ConfigError naming the variable, and main.ts stops.
 * Secrets (ADMIN_TOKEN, KLEIS_ENCRYPTION_KEY) are resolved separately by
 * local_secrets.ts, because locally they may be generated on first start.
 */

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

export interface UpstreamOrigins {
  github: string;
  githubApi: string;
  copilot: string;
  openaiAuth: string;
  chatgpt: string;
  claudeAi: string;
  claudePlatform: string;
  anthropic: string;
}

export interface Config {
  readonly adminToken: string;
  /** Raw 32 bytes of KLEIS_ENCRYPTION_KEY. */
  readonly encryptionKey: Uint8Array;
  /** File path, ":memory:", a KV Connect URL, or undefined for the platform's KV on Deno Deploy. */
  readonly kvPath: string | undefined;
  readonly port: number;
  readonly hostname: string;
  readonly publicUrl: string | undefined;
  readonly trustProxy: boolean;
  readonly maxBodyBytes: number;
  readonly refreshCron: string;
  readonly usageRetentionDays: number;
  readonly modelsDevUrl: string;
  readonly upstream: Readonly<UpstreamOrigins>;
  /** True on Deno Deploy (DENO_DEPLOYMENT_ID set). */
  readonly onDeploy: boolean;
  /** Scheduled off-site backups and restore on start (KLEIS_BACKUP_*, KLEIS_RESTORE_FROM). */
  readonly backup: Readonly<BackupConfig>;
  /** KLEIS_METRICS_TOKEN: a bearer that opens GET /metrics only (the admin token opens it too). */
  readonly metricsToken: string | undefined;
  /** Request capture for debugging (KLEIS_CAPTURE_*; src/capture). */
  readonly capture: Readonly<CaptureConfig>;
}

export interface CaptureConfig {
  /** How long a capture is kept after it was written. */
  readonly retentionMs: number;
  /** Bytes kept of each captured body; the rest is counted, not stored. */
  readonly maxBodyBytes: number;
  /** Captures kept per key; the oldest go first. */
  readonly maxPerKey: number;
}

export type Env = Record<string, string | undefined>;

export const UPSTREAM_VARIABLES: Record<keyof UpstreamOrigins, [string, string]> = {
  github: ["KLEIS_UPSTREAM_GITHUB", "https://github.com"],
  githubApi: ["KLEIS_UPSTREAM_GITHUB_API", "https://api.github.com"],
  copilot: ["KLEIS_UPSTREAM_COPILOT", "https://api.githubcopilot.com"],
  openaiAuth: ["KLEIS_UPSTREAM_OPENAI_AUTH", "https://auth.openai.com"],
  chatgpt: ["KLEIS_UPSTREAM_CHATGPT", "https://chatgpt.com"],
  claudeAi: ["KLEIS_UPSTREAM_CLAUDE_AI", "https://claude.ai"],
  claudePlatform: ["KLEIS_UPSTREAM_CLAUDE_PLATFORM", "https://platform.claude.com"],
  anthropic: ["KLEIS_UPSTREAM_ANTHROPIC", "https://api.anthropic.com"],
};

export const DEFAULT_LOCAL_KV_PATH = "./data/kleis.db";
export const MIN_ADMIN_TOKEN_LENGTH = 32;

function value(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === "" ? undefined : raw;
}

/** An origin: scheme, host and optional port; no path, query or credentials. */
export function parseOrigin(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `"${raw}" is not a valid URL.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(name, "must use http or https.");
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/")) {
    throw new ConfigError(name, "must be an origin (scheme, host, optional port) without a path.");
  }
  return url.origin;
}

function parseUrl(name: string, raw: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
    return url.href;
  } catch {
    throw new ConfigError(name, `"${raw}" is not a valid http(s) URL.`);
  }
}

function parseInteger(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `"${raw}" is not a whole number.`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}.`);
  return n;
}

function parseBoolean(name: string, raw: string): boolean {
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ConfigError(name, `"${raw}" is not true or false.`);
}

const CRON_RANGES: [number, number][] = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];

/** Five-field cron: minute hour day-of-month month day-of-week, each value in its range. */
function parseCron(name: string, raw: string): string {
  const part = /^(\*|(\d+)(-(\d+))?)(\/(\d+))?$/;
  const fields = raw.split(/\s+/);
  const valid = fields.length === 5 && fields.every((field, i) => {
    const [min, max] = CRON_RANGES[i]!;
    return field.split(",").every((item) => {
      const m = part.exec(item);
      if (!m) return false;
      const numbers = [m[2], m[4]].filter((n) => n !== undefined).map(Number);
      if (m[6] !== undefined && Number(m[6]) < 1) return false;
      return numbers.every((n) => n >= min && n <= max);
    });
  });
  if (!valid) throw new ConfigError(name, `"${raw}" is not a five-field cron schedule.`);
  return fields.join(" ");
}

/** A host name or IP address to listen on (no scheme, path or port). */
function parseHostname(name: string, raw: string): string {
  if (
    !/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/
      .test(raw)
  ) {
    throw new ConfigError(name, `"${raw}" is not a host name or IP address.`);
  }
  return raw;
}

export function parseAdminToken(raw: string | undefined, name = "ADMIN_TOKEN"): string {
  if (raw === undefined) throw new ConfigError(name, "is required.");
  if (raw.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ConfigError(name, `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters long.`);
  }
  return raw;
}

export function parseEncryptionKey(
  raw: string | undefined,
  name = "KLEIS_ENCRYPTION_KEY",
): Uint8Array {
  if (raw === undefined) throw new ConfigError(name, "is required.");
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(raw), (c) => c.charCodeAt(0));
  } catch {
    throw new ConfigError(name, "is not valid base64.");
  }
  if (bytes.length !== 32) {
    throw new ConfigError(name, `must be base64 of 32 bytes (got ${bytes.length}).`);
  }
  return bytes;
}

export interface Secrets {
  adminToken: string;
  encryptionKey: string;
}

/**
 * Parses every non-secret variable, then the secrets (given explicitly, since
 * they may come from the local secrets file rather than the environment).
 */
export function loadConfig(env: Env, secrets: Partial<Secrets> = {}): Config {
  const onDeploy = value(env, "DENO_DEPLOYMENT_ID") !== undefined;
  const upstream = Object.fromEntries(
    Object.entries(UPSTREAM_VARIABLES).map(([key, [name, fallback]]) => [
      key,
      parseOrigin(name, value(env, name) ?? fallback),
    ]),
  ) as unknown as UpstreamOrigins;

  const publicUrlRaw = value(env, "KLEIS_PUBLIC_URL");
  const kvPathRaw = value(env, "KLEIS_KV_PATH");
  const metricsTokenRaw = value(env, "KLEIS_METRICS_TOKEN");
  if (kvPathRaw?.startsWith("http")) parseUrl("KLEIS_KV_PATH", kvPathRaw);

  const config: Config = {
    adminToken: parseAdminToken(secrets.adminToken ?? value(env, "ADMIN_TOKEN")),
    encryptionKey: parseEncryptionKey(secrets.encryptionKey ?? value(env, "KLEIS_ENCRYPTION_KEY")),
    kvPath: kvPathRaw ?? (onDeploy ? undefined : DEFAULT_LOCAL_KV_PATH),
    port: parseInteger("PORT", value(env, "PORT") ?? "8787", 0, 65535),
    hostname: parseHostname("HOSTNAME", value(env, "HOSTNAME") ?? "127.0.0.1"),
    publicUrl: publicUrlRaw === undefined
      ? undefined
      : parseUrl("KLEIS_PUBLIC_URL", publicUrlRaw).replace(/\/+$/, ""),
    trustProxy: parseBoolean("KLEIS_TRUST_PROXY", value(env, "KLEIS_TRUST_PROXY") ?? "false"),
    maxBodyBytes: parseInteger(
      "KLEIS_MAX_BODY_BYTES",
      value(env, "KLEIS_MAX_BODY_BYTES") ?? "33554432",
      1024,
      1024 ** 3,
    ),
    refreshCron: parseCron("KLEIS_REFRESH_CRON", value(env, "KLEIS_REFRESH_CRON") ?? "*/5 * * * *"),
    usageRetentionDays: parseInteger(
      "KLEIS_USAGE_RETENTION_DAYS",
      value(env, "KLEIS_USAGE_RETENTION_DAYS") ?? "30",
      1,
      3650,
    ),
    modelsDevUrl: parseUrl(
      "KLEIS_MODELS_DEV_URL",
      value(env, "KLEIS_MODELS_DEV_URL") ?? "https://models.dev/api.json",
    ),
    upstream: Object.freeze(upstream),
    onDeploy,
    backup: parseBackupConfig(env, onDeploy),
    metricsToken: metricsTokenRaw === undefined
      ? undefined
      : parseAdminToken(metricsTokenRaw, "KLEIS_METRICS_TOKEN"),
    capture: parseCaptureConfig(env),
  };
  return Object.freeze(config);
}

// --- Request capture (src/capture) ---------------------------------------

function parseCaptureConfig(env: Env): CaptureConfig {
  const number = (name: string, fallback: number, min: number, max: number) =>
    parseInteger(name, value(env, name) ?? String(fallback), min, max);
  return Object.freeze({
    retentionMs: number("KLEIS_CAPTURE_RETENTION_HOURS", 24, 1, 24 * 7) * 3_600_000,
    maxBodyBytes: number("KLEIS_CAPTURE_MAX_BODY_BYTES", 256 * 1024, 1024, 1024 * 1024),
    maxPerKey: number("KLEIS_CAPTURE_MAX_PER_KEY", 100, 1, 1000),
  });
}

// --- Backups (src/backup) -------------------------------------------------

/** Where sealed backups go (KLEIS_BACKUP_TARGET) or come from (KLEIS_RESTORE_FROM). */
export type BackupTargetSpec =
  | { readonly kind: "dir"; readonly path: string }
  | {
    readonly kind: "s3";
    /** Origin of the S3 API; objects are addressed path-style (origin/bucket/key). */
    readonly endpoint: string;
    readonly bucket: string;
    /** Key prefix inside the bucket ("" or ending in "/"). */
    readonly prefix: string;
    readonly region: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
  }
  | {
    readonly kind: "git";
    /** Any remote git accepts (ssh, https, a path); never with credentials in it. */
    readonly remote: string;
    readonly branch: string;
    /** For https remotes: sent as HTTP Basic (user:token) in a header, never in the URL. */
    readonly token: string | undefined;
    readonly tokenUser: string;
    /** For ssh remotes: the private key file to use. */
    readonly sshKeyFile: string | undefined;
  };

export interface BackupConfig {
  readonly target: BackupTargetSpec | undefined;
  readonly restoreFrom: BackupTargetSpec | undefined;
  /** How many backups the target keeps (older ones are removed after each write). */
  readonly keep: number;
  readonly schedule: string;
}

/** Hourly, off the full hour: a backup is at most an hour older than the last refresh. */
export const DEFAULT_BACKUP_SCHEDULE = "41 * * * *";
export const DEFAULT_BACKUP_KEEP = 48;

/**
 * Parses a target: `dir:<path>`, `s3://<bucket>[/<prefix>]` or `git:<remote>`.
 * Messages never repeat the value: a careless one may hold a credential.
 */
function parseBackupTarget(
  name: string,
  raw: string,
  env: Env,
  onDeploy: boolean,
): BackupTargetSpec {
  const colon = raw.indexOf(":");
  const scheme = colon > 0 ? raw.slice(0, colon) : "";
  if (scheme === "dir") {
    const path = raw.slice(4).trim();
    if (!path) throw new ConfigError(name, "dir: needs a directory path (dir:./backups).");
    if (onDeploy) throw new ConfigError(name, "Deno Deploy has no writable disk; use s3://.");
    return Object.freeze({ kind: "dir", path });
  }
  if (scheme === "s3") {
    const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/[^?#]*)?$/.exec(raw);
    if (!match) throw new ConfigError(name, "must look like s3://bucket or s3://bucket/prefix.");
    const prefix = (match[2] ?? "").replace(/^\/+|\/+$/g, "");
    const region = value(env, "KLEIS_BACKUP_S3_REGION") ?? "us-east-1";
    if (!/^[a-z0-9-]{1,40}$/.test(region)) {
      throw new ConfigError("KLEIS_BACKUP_S3_REGION", "is not a region name (e.g. eu-central-1).");
    }
    const endpointRaw = value(env, "KLEIS_BACKUP_S3_ENDPOINT");
    const accessKeyId = value(env, "KLEIS_BACKUP_S3_ACCESS_KEY_ID");
    const secretAccessKey = value(env, "KLEIS_BACKUP_S3_SECRET_ACCESS_KEY");
    if (!accessKeyId) {
      throw new ConfigError("KLEIS_BACKUP_S3_ACCESS_KEY_ID", `is required for ${name}=s3://...`);
    }
    if (!secretAccessKey) {
      throw new ConfigError(
        "KLEIS_BACKUP_S3_SECRET_ACCESS_KEY",
        `is required for ${name}=s3://...`,
      );
    }
    return Object.freeze({
      kind: "s3",
      endpoint: endpointRaw === undefined
        ? `https://s3.${region}.amazonaws.com`
        : parseOrigin("KLEIS_BACKUP_S3_ENDPOINT", endpointRaw),
      bucket: match[1]!,
      prefix: prefix ? `${prefix}/` : "",
      region,
      accessKeyId,
      secretAccessKey,
    });
  }
  if (scheme === "git") {
    const remote = raw.slice(4).trim();
    if (!remote) throw new ConfigError(name, "git: needs a remote (git:git@host:owner/repo.git).");
    if (onDeploy) {
      throw new ConfigError(name, "Deno Deploy cannot run the git program; use s3://.");
    }
    // https://user:secret@host/ or https://token@host/ would put the secret in git's config,
    // its messages and the admin API. (ssh://git@host/ names a user, no secret.)
    if (/^[a-z+]+:\/\/[^/@]*:[^/@]*@/i.test(remote) || /^https?:\/\/[^/@]*@/i.test(remote)) {
      throw new ConfigError(
        name,
        "must not hold credentials in the URL; put the token in KLEIS_BACKUP_GIT_TOKEN.",
      );
    }
    const branch = value(env, "KLEIS_BACKUP_GIT_BRANCH") ?? "main";
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/.test(branch) || branch.includes("..")) {
      throw new ConfigError("KLEIS_BACKUP_GIT_BRANCH", `"${branch}" is not a branch name.`);
    }
    return Object.freeze({
      kind: "git",
      remote,
      branch,
      token: value(env, "KLEIS_BACKUP_GIT_TOKEN"),
      tokenUser: value(env, "KLEIS_BACKUP_GIT_USER") ?? "x-access-token",
      sshKeyFile: value(env, "KLEIS_BACKUP_GIT_SSH_KEY"),
    });
  }
  throw new ConfigError(name, "must start with dir:, s3:// or git: (see README, Backups).");
}

function parseBackupConfig(env: Env, onDeploy: boolean): BackupConfig {
  const targetRaw = value(env, "KLEIS_BACKUP_TARGET");
  const restoreRaw = value(env, "KLEIS_RESTORE_FROM");
  return Object.freeze({
    target: targetRaw === undefined
      ? undefined
      : parseBackupTarget("KLEIS_BACKUP_TARGET", targetRaw, env, onDeploy),
    restoreFrom: restoreRaw === undefined
      ? undefined
      : parseBackupTarget("KLEIS_RESTORE_FROM", restoreRaw, env, onDeploy),
    keep: parseInteger(
      "KLEIS_BACKUP_KEEP",
      value(env, "KLEIS_BACKUP_KEEP") ?? String(DEFAULT_BACKUP_KEEP),
      1,
      10_000,
    ),
    schedule: parseCron(
      "KLEIS_BACKUP_SCHEDULE",
      value(env, "KLEIS_BACKUP_SCHEDULE") ?? DEFAULT_BACKUP_SCHEDULE,
    ),
  });
}

/**
 * First local start: when ADMIN_TOKEN or KLEIS_ENCRYPTION_KEY is not set,
 * generate it once and keep it in a file beside the local KV database (mode
 * 0600), so the next start reuses it. On Deno Deploy nothing is generated:
 * the secrets must be set, and loadConfig stops start-up otherwise.
 */
import { base64Encode, randomBase62, systemRandom } from "./crypto.ts";
import { ConfigError, type Env, type Secrets } from "./config.ts";

export interface ResolvedSecrets {
  secrets: Partial<Secrets>;
  /** Set when this start generated the admin token (main.ts prints it once). */
  generatedAdminToken?: string;
  file?: string;
}

export function secretsFileFor(kvPath: string): string {
  const slash = kvPath.lastIndexOf("/");
  const dir = slash >= 0 ? kvPath.slice(0, slash) : ".";
  return `${dir || "/"}/kleis.secrets.json`;
}

export async function resolveLocalSecrets(env: Env, kvPath: string): Promise<ResolvedSecrets> {
  const fromEnv: Partial<Secrets> = {};
  if (env.ADMIN_TOKEN) fromEnv.adminToken = env.ADMIN_TOKEN;
  if (env.KLEIS_ENCRYPTION_KEY) fromEnv.encryptionKey = env.KLEIS_ENCRYPTION_KEY;
  // On Deno Deploy, or with both secrets given, or with in-memory/remote KV
  // (nowhere to keep a file), nothing is generated.
  const local = kvPath !== ":memory:" && !kvPath.startsWith("http");
  if ((fromEnv.adminToken && fromEnv.encryptionKey) || env.DENO_DEPLOYMENT_ID || !local) {
    return { secrets: fromEnv };
  }

  const file = secretsFileFor(kvPath);
  let stored: Partial<Secrets> = {};
  try {
    stored = JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new ConfigError(
        "KLEIS_KV_PATH",
        `the local secrets file ${file} beside the KV database could not be read; fix or remove it.`,
      );
    }
  }
  const secrets: Secrets = {
    adminToken: fromEnv.adminToken ?? stored.adminToken ?? randomBase62(40),
    encryptionKey: fromEnv.encryptionKey ?? stored.encryptionKey ??
      base64Encode(systemRandom(32)),
  };
  const result: ResolvedSecrets = { secrets, file };
  if (!fromEnv.adminToken && !stored.adminToken) result.generatedAdminToken = secrets.adminToken;
  // Only generated values are kept; secrets given in the environment win but are not written.
  const toStore = {
    adminToken: stored.adminToken ?? (fromEnv.adminToken ? undefined : secrets.adminToken),
    encryptionKey: stored.encryptionKey ??
      (fromEnv.encryptionKey ? undefined : secrets.encryptionKey),
  };
  if (
    toStore.adminToken !== stored.adminToken || toStore.encryptionKey !== stored.encryptionKey
  ) {
    await Deno.mkdir(file.slice(0, file.lastIndexOf("/")) || ".", { recursive: true });
    await Deno.writeTextFile(file, JSON.stringify(toStore, null, 2) + "\n", { mode: 0o600 });
    await Deno.chmod(file, 0o600);
  }
  return result;
}

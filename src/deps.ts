/**
 * The dependencies every service takes (inject, never reach: docs/architecture.md#layers).
 * Nothing opens KV, reads the environment or the clock on its own.
 */
import type { Config } from "./config.ts";
import { importSealingKey, type RandomBytes, systemRandom } from "./crypto.ts";
import { createLogger, type Logger } from "./log.ts";
import { Runtime } from "./runtime.ts";

export interface Deps {
  kv: Deno.Kv;
  config: Config;
  /** Milliseconds since the epoch. */
  now: () => number;
  fetch: typeof fetch;
  random: RandomBytes;
  log: Logger;
  /** AES-GCM key derived from config.encryptionKey, for sealing tokens at rest. */
  sealingKey: CryptoKey;
  /** This app's in-memory state (caches, in-flight work): see runtime.ts. */
  runtime: Runtime;
}

export async function createDeps(
  kv: Deno.Kv,
  config: Config,
  overrides: Partial<Omit<Deps, "kv" | "config" | "sealingKey">> = {},
): Promise<Deps> {
  return {
    kv,
    config,
    now: overrides.now ?? (() => Date.now()),
    fetch: overrides.fetch ?? ((input, init) => fetch(input, init)),
    random: overrides.random ?? systemRandom,
    log: overrides.log ?? createLogger(),
    sealingKey: await importSealingKey(config.encryptionKey),
    runtime: overrides.runtime ?? new Runtime(),
  };
}

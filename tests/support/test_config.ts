/** Configuration and logging for tests and benches: valid secrets, in-memory KV, lines kept. */
import { type Config, loadConfig } from "../../src/config.ts";
import { createLogger, type Logger } from "../../src/log.ts";

/** Config for tests: valid secrets, in-memory KV, and any overrides. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ KLEIS_KV_PATH: ":memory:" }, {
    adminToken: "test-admin-token-0123456789abcdefghijkl",
    encryptionKey: btoa(String.fromCharCode(...new Uint8Array(32).fill(7))),
  });
  return Object.freeze({ ...base, ...overrides });
}

/** A logger that keeps lines in memory (tests assert nothing secret was logged). */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger((line) => lines.push(line), "debug"), { lines });
}

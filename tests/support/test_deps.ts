/** Dependencies for unit tests: in-memory KV, a clock the test moves, a memory logger. */
import type { Config } from "../../src/config.ts";
import { createDeps, type Deps } from "../../src/deps.ts";
import { memoryLogger, testConfig } from "./test_config.ts";

export interface TestClock {
  now: () => number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function testClock(start = Date.UTC(2026, 10, 22, 12, 0, 0)): TestClock {
  let current = start;
  return {
    now: () => current,
    set: (ms) => {
      current = ms;
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

export type TestDeps = Deps & {
  clock: TestClock;
  logLines: string[];
  [Symbol.asyncDispose](): Promise<void>;
};

/** `await using deps = await testDeps()` closes the KV at the end of the test. */
export async function testDeps(
  options: {
    config?: Partial<Config>;
    fetch?: typeof fetch;
    clock?: TestClock;
    kv?: Deno.Kv;
  } = {},
): Promise<TestDeps> {
  const kv = options.kv ?? await Deno.openKv(":memory:");
  const clock = options.clock ?? testClock();
  const log = memoryLogger();
  const deps = await createDeps(kv, testConfig(options.config), {
    now: clock.now,
    log,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return Object.assign(deps, {
    clock,
    logLines: log.lines,
    async [Symbol.asyncDispose]() {
      if (!options.kv) kv.close();
      await Promise.resolve();
    },
  });
}

/**
 * Two Kleis instances on one KV file and one clock, as two processes behind
 * a load balancer would run: what one writes, the other must honour.
 * `await using pair = await twoInstances()` closes both KV handles and
 * removes the file.
 */
import { createApp } from "../../src/app.ts";
import { type TestDeps, testDeps } from "./test_deps.ts";
import { openKv } from "../../src/kv/open.ts";

export interface TwoInstances {
  a: TestDeps;
  b: TestDeps;
  appA: ReturnType<typeof createApp>;
  appB: ReturnType<typeof createApp>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function twoInstances(): Promise<TwoInstances> {
  const dir = await Deno.makeTempDir();
  const kvA = await openKv(`${dir}/kleis.db`);
  const kvB = await openKv(`${dir}/kleis.db`);
  const a = await testDeps({ kv: kvA });
  const b = await testDeps({ kv: kvB, clock: a.clock });
  return {
    a,
    b,
    appA: createApp(a),
    appB: createApp(b),
    async [Symbol.asyncDispose]() {
      kvA.close();
      kvB.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

import assert from "node:assert/strict";
import { AttemptGate, attemptGate } from "../../src/auth/attempt_gate.ts";
import { Runtime } from "../../src/runtime.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

/** Whether `promise` settles within `ms` (the timer is cleared either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("AttemptGate", async (t) => {
  await t.step("attempts for one key run one at a time, in arrival order", async () => {
    const gate = new AttemptGate();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const release = await gate.acquire("a");
      running++;
      most = Math.max(most, running);
      log.push(`start ${i}`);
      await tick();
      log.push(`end ${i}`);
      running--;
      release();
    }));
    assert.equal(most, 1);
    assert.deepEqual(
      log,
      Array.from({ length: 20 }, (_, i) => [`start ${i}`, `end ${i}`]).flat(),
    );
    assert.equal(gate.size, 0, "nothing is kept once every attempt is done");
  });

  await t.step("different keys do not wait for each other", async () => {
    const gate = new AttemptGate();
    const releaseA = await gate.acquire("a");
    const b = gate.acquire("b");
    assert.equal(await settlesWithin(b, 200), true, "b was not held up by a");
    releaseA();
    (await b)();
    assert.equal(gate.size, 0);
  });

  await t.step(
    "idle() is undefined for a free key and settles after the attempts queued so far",
    async () => {
      const gate = new AttemptGate();
      assert.equal(gate.idle("a"), undefined);
      const first = await gate.acquire("a");
      const second = gate.acquire("a");
      const waited = gate.idle("a");
      assert.ok(waited);
      let settled = false;
      void waited.then(() => {
        settled = true;
      });
      // An attempt queued after the call is not waited for.
      const third = gate.acquire("a");
      first();
      await tick();
      assert.equal(settled, false, "the second attempt still runs");
      (await second)();
      await tick();
      assert.equal(settled, true);
      (await third)();
      assert.equal(gate.size, 0);
    },
  );

  await t.step("a release called twice frees only its own turn", async () => {
    const gate = new AttemptGate();
    const first = await gate.acquire("a");
    const second = gate.acquire("a");
    const third = gate.acquire("a");
    first();
    first();
    const releaseSecond = await second;
    assert.equal(await settlesWithin(third, 50), false);
    releaseSecond();
    (await third)();
    assert.equal(gate.size, 0);
  });

  await t.step("attemptGate() gives one gate per app runtime", () => {
    const a = { runtime: new Runtime() };
    const b = { runtime: new Runtime() };
    assert.equal(attemptGate(a), attemptGate(a));
    assert.notEqual(attemptGate(a), attemptGate(b));
  });
});

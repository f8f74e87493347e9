import assert from "node:assert/strict";
import { testClock, testDeps } from "../support/test_deps.ts";
import { createApp } from "../../src/app.ts";
import { keys } from "../../src/kv/keys.ts";
import { acquireKeyLimits, SLOT_TTL_MS } from "../../src/keys/limits.ts";
import { getApiKey } from "../../src/keys/repository.ts";
import { blockSize } from "../../src/keys/limiter.ts";
import { callWithKey, createKey, fromAddress } from "./helpers.ts";
import { accountsEnv } from "../accounts/helpers.ts";
import { importCredentials } from "../../src/accounts/import.ts";
import { openKv } from "../../src/kv/open.ts";

const statuses = (responses: Response[]) => responses.map((r) => r.status);
const count = (list: number[], status: number) => list.filter((s) => s === status).length;
/** Cancels every body not read yet (sanitizers want them closed). */
const discard = (responses: Response[]) =>
  Promise.all(responses.map((r) => r.bodyUsed ? undefined : r.body?.cancel()));

Deno.test("requestsPerMinute: 10 admits exactly 10 of 50 simultaneous requests", async (t) => {
  const clock = testClock(Date.UTC(2026, 10, 22, 12, 0, 15, 500));
  await using deps = await testDeps({ clock });
  const app = createApp(deps);
  const { secret } = await createKey(app, deps, {
    label: "rpm",
    limits: { requestsPerMinute: 10 },
  });

  await t.step("10 are admitted, 40 get 429 with Retry-After to the next minute", async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => callWithKey(app, secret)),
    );
    const list = statuses(responses);
    assert.equal(count(list, 200), 10);
    assert.equal(count(list, 429), 40);
    const refused = responses.find((r) => r.status === 429)!;
    assert.equal(refused.headers.get("retry-after"), "45");
    const body = await refused.json();
    assert.equal(body.error.type, "rate_limit_error");
    assert.equal(body.error.code, "rate_limit_exceeded");
    await discard(responses);
  });

  await t.step("the next minute admits 10 again", async () => {
    clock.advance(45_000);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => callWithKey(app, secret)),
    );
    assert.equal(count(statuses(responses), 200), 10);
    await discard(responses);
  });

  await t.step("the refusal keeps the native shape of the prefix", async () => {
    const res = await callWithKey(app, secret, { path: "/anthropic/v1/models" });
    assert.equal(res.status, 429);
    assert.deepEqual(await res.json(), {
      type: "error",
      error: {
        type: "rate_limit_error",
        message: "This API key allows 10 requests per minute; try again in 60 s.",
      },
    });
  });
});

Deno.test("requestsPerMinute: 100 admits exactly 100 of 150 simultaneous requests (blocks shrink near the limit)", async () => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const { key, secret } = await createKey(app, deps, {
    label: "rpm100",
    limits: { requestsPerMinute: 100 },
  });
  const responses = await Promise.all(Array.from({ length: 150 }, () => callWithKey(app, secret)));
  assert.equal(count(statuses(responses), 200), 100);
  await discard(responses);
  const minute = Math.floor(deps.now() / 60_000);
  assert.equal((await deps.kv.get(keys.requestsInMinute(key.id, minute))).value, 100);
});

Deno.test("blockSize() reserves nothing near the limit and at most 256", () => {
  assert.equal(blockSize(10), 0);
  assert.equal(blockSize(63), 0);
  assert.equal(blockSize(64), 2);
  assert.equal(blockSize(3200), 100);
  assert.equal(blockSize(10_000_000), 256);
});

Deno.test("concurrent: 2 admits exactly 2 of 50 simultaneous requests until a body is sent", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const { secret } = await createKey(app, deps, { label: "conc", limits: { concurrent: 2 } });

  const responses = await Promise.all(Array.from({ length: 50 }, () => callWithKey(app, secret)));
  await t.step("2 are admitted; the rest get 429 with Retry-After: 1", async () => {
    const list = statuses(responses);
    assert.equal(count(list, 200), 2);
    assert.equal(count(list, 429), 48);
    const refused = responses.find((r) => r.status === 429)!;
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.equal((await refused.json()).error.code, "concurrency_limit_exceeded");
  });

  await t.step("a slot is held while its body is unread and freed once it is sent", async () => {
    assert.equal((await callWithKey(app, secret)).status, 429);
    const admitted = responses.filter((r) => r.status === 200);
    await admitted[0]!.text();
    // The release is committed asynchronously; wait for it.
    let next = await callWithKey(app, secret);
    for (let i = 0; i < 20 && next.status === 429; i++) {
      await new Promise((r) => setTimeout(r, 5));
      next = await callWithKey(app, secret);
    }
    assert.equal(next.status, 200);
    await next.body?.cancel();
    await admitted[1]!.body?.cancel();
    await discard(responses);
  });
});

Deno.test("limits stay exact across two instances sharing one KV file", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kleis.db`;
  const kvA = await openKv(path);
  const kvB = await openKv(path);
  try {
    await using a = await testDeps({ kv: kvA });
    await using b = await testDeps({ kv: kvB, clock: a.clock });
    const appA = createApp(a);
    const appB = createApp(b);

    await t.step("requestsPerMinute 10: 25 + 25 simultaneous → exactly 10", async () => {
      const { secret } = await createKey(appA, a, {
        label: "shared",
        limits: { requestsPerMinute: 10 },
      });
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) => callWithKey(i % 2 ? appA : appB, secret)),
      );
      assert.equal(count(statuses(responses), 200), 10);
      await discard(responses);
    });

    await t.step("concurrent 2: 25 + 25 simultaneous → exactly 2", async () => {
      const { secret } = await createKey(appA, a, { label: "conc", limits: { concurrent: 2 } });
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) => callWithKey(i % 2 ? appA : appB, secret)),
      );
      assert.equal(count(statuses(responses), 200), 2);
      await discard(responses);
    });
  } finally {
    kvA.close();
    kvB.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("acquireKeyLimits()", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);

  await t.step("every call is one admission, whatever record object it is given", async () => {
    const { key } = await createKey(app, deps, { label: "k", limits: { requestsPerMinute: 2 } });
    const record = (await getApiKey(deps.kv, key.id))!;
    await acquireKeyLimits(deps, record);
    await acquireKeyLimits(deps, record);
    const minute = Math.floor(deps.now() / 60_000);
    assert.equal((await deps.kv.get(keys.requestsInMinute(key.id, minute))).value, 2);
    await assert.rejects(() => acquireKeyLimits(deps, record), (e: { status: number }) => {
      assert.equal(e.status, 429);
      return true;
    });
  });

  await t.step("slots of a crashed process free themselves after their deadline", async () => {
    const { key } = await createKey(app, deps, { label: "c", limits: { concurrent: 1 } });
    await deps.kv.set(keys.concurrentSlots(key.id), { crashed: deps.now() + SLOT_TTL_MS });
    const record = async () => (await getApiKey(deps.kv, key.id))!;
    const crashedView = await record();
    await assert.rejects(() => acquireKeyLimits(deps, crashedView), (e: { status: number }) => {
      assert.equal(e.status, 429);
      return true;
    });
    deps.clock.advance(SLOT_TTL_MS);
    const lease = await acquireKeyLimits(deps, await record());
    await lease.release();
    await lease.release();
    assert.equal((await deps.kv.get(keys.concurrentSlots(key.id))).value, null);
  });

  await t.step(
    "writes at most once per request with only requestsPerMinute, never without limits",
    async () => {
      const limited = await createKey(app, deps, {
        label: "l",
        limits: { requestsPerMinute: 10 },
      });
      const high = await createKey(app, deps, {
        label: "h",
        limits: { requestsPerMinute: 1_000_000 },
      });
      const free = await createKey(app, deps, { label: "f" });
      const realAtomic = deps.kv.atomic.bind(deps.kv);
      let commits = 0;
      deps.kv.atomic = () => {
        const op = realAtomic();
        const commit = op.commit.bind(op);
        op.commit = () => {
          commits++;
          return commit();
        };
        return op;
      };
      try {
        for (let i = 0; i < 5; i++) {
          const res = await callWithKey(app, free.secret);
          assert.equal(res.status, 200);
          await res.body?.cancel();
        }
        assert.equal(commits, 0);
        for (let i = 0; i < 5; i++) {
          const res = await callWithKey(app, limited.secret);
          assert.equal(res.status, 200);
          await res.body?.cancel();
        }
        assert.equal(commits, 5);
        // Far from its limit, admissions are reserved in blocks: 100 requests, a few writes.
        commits = 0;
        for (let i = 0; i < 100; i++) {
          const res = await callWithKey(app, high.secret);
          assert.equal(res.status, 200);
          await res.body?.cancel();
        }
        assert.ok(commits >= 1 && commits <= 3, `${commits} commits`);
        const minute = Math.floor(deps.now() / 60_000);
        const stored = await deps.kv.get<number>(keys.requestsInMinute(high.key.id, minute));
        assert.ok(stored.value! >= 100, "every admission was counted in KV before it was used");
      } finally {
        deps.kv.atomic = realAtomic;
      }
    },
  );
});

Deno.test("a proxied request is admitted once: the route uses the middleware's lease", async (t) => {
  await using env = await accountsEnv();
  const { deps } = env;
  const app = createApp(deps);
  await importCredentials(deps, "copilot", {
    "github.com": { user: "limits", oauth_token: env.fakes.world.issueCopilotToken() },
  });
  // concurrent: 1 refuses a second admission while the first is held, so a
  // route admitting the request again would refuse every request.
  const { key, secret } = await createKey(app, deps, {
    label: "proxied",
    limits: { requestsPerMinute: 2, concurrent: 1 },
  });
  const proxied = () =>
    app.request("/copilot/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4.1", messages: [{ role: "user", content: "hi" }] }),
    }, fromAddress("192.0.2.1"));
  const minute = Math.floor(deps.now() / 60_000);

  await t.step("one request: one count, its slot freed once the answer is read", async () => {
    const res = await proxied();
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal((await deps.kv.get(keys.requestsInMinute(key.id, minute))).value, 1);
    assert.equal((await deps.kv.get(keys.concurrentSlots(key.id))).value, null);
  });

  await t.step("the second is admitted, the third refused by requestsPerMinute", async () => {
    const second = await proxied();
    assert.equal(second.status, 200);
    await second.arrayBuffer();
    const third = await proxied();
    assert.equal(third.status, 429);
    assert.equal((await third.json()).error.code, "rate_limit_exceeded");
  });
});

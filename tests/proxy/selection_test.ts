import assert from "node:assert/strict";
import { leastUsedScore, orderAccounts } from "../../src/proxy/selection.ts";
import { Selector, STRATEGY_CACHE_TTL_MS, USAGE_CACHE_TTL_MS } from "../../src/proxy/selector.ts";
import { CooldownCache } from "../../src/accounts/cooldowns.ts";
import { setSelectionStrategy } from "../../src/accounts/selection_settings.ts";
import { keys } from "../../src/kv/keys.ts";
import type { AccountRecord } from "../../src/model/accounts.ts";
import { testDeps } from "../support/test_deps.ts";

function account(id: string, priority: number, extra: Partial<AccountRecord> = {}): AccountRecord {
  return {
    id,
    provider: "codex",
    externalId: id,
    label: id,
    enabled: true,
    priority,
    createdAt: 0,
    updatedAt: 0,
    meta: {},
    ...extra,
  };
}

const ids = (list: AccountRecord[]) => list.map((a) => a.id);

// a, b, c share priority 0; d is the fallback at 1; n needs a login; x is disabled.
const ACCOUNTS = [
  account("a", 0),
  account("b", 0),
  account("n", 0, { needsLogin: true }),
  account("c", 0),
  account("x", 0, { enabled: false }),
  account("d", 1),
];
const base = { accounts: ACCOUNTS, primaryId: "b", pinnedId: undefined, affinityId: undefined };

Deno.test("selection order per strategy", async (t) => {
  await t.step(
    "fill-first (no strategy given): affinity, primary, priority, needs_login last",
    () => {
      assert.deepEqual(ids(orderAccounts(base)), ["b", "a", "c", "d", "n"]);
      assert.deepEqual(ids(orderAccounts({ ...base, strategy: "fill-first" })), [
        "b",
        "a",
        "c",
        "d",
        "n",
      ]);
      assert.deepEqual(ids(orderAccounts({ ...base, affinityId: "c" })), ["c", "b", "a", "d", "n"]);
    },
  );

  await t.step("a pin wins over every strategy, and is strict", () => {
    for (const strategy of ["fill-first", "round-robin", "least-used"] as const) {
      assert.deepEqual(ids(orderAccounts({ ...base, strategy, pinnedId: "c", turn: 1 })), ["c"]);
      assert.deepEqual(ids(orderAccounts({ ...base, strategy, pinnedId: "x" })), []);
    }
  });

  await t.step("round-robin rotates the equal-priority group; the fallback stays behind", () => {
    const rr = (turn: number, extra = {}) =>
      ids(orderAccounts({ ...base, strategy: "round-robin", turn, ...extra }));
    assert.deepEqual(rr(0), ["a", "b", "c", "d", "n"]);
    assert.deepEqual(rr(1), ["b", "c", "a", "d", "n"]);
    assert.deepEqual(rr(2), ["c", "a", "b", "d", "n"]);
    assert.deepEqual(rr(3), rr(0));
    assert.deepEqual(rr(-1), rr(2), "any integer turn");
    // The primary has no special place; affinity still comes first.
    assert.deepEqual(rr(1, { affinityId: "d" }), ["d", "b", "c", "a", "n"]);
    assert.deepEqual(rr(0, { affinityId: "c" }), ["c", "a", "b", "d", "n"]);
  });

  await t.step(
    "round-robin counts only serving accounts: a cooling one takes no extra turn",
    () => {
      const firsts = [0, 1, 2, 3].map((turn) =>
        orderAccounts({ ...base, strategy: "round-robin", turn, blocked: (id) => id === "a" })
      );
      assert.deepEqual(firsts.map((l) => l[0]!.id), ["b", "c", "b", "c"]);
      assert.deepEqual(ids(firsts[0]!), ["b", "c", "a", "d", "n"], "the cooling one still listed");
    },
  );

  await t.step("least-used: lowest score first, unknown counts as 0, ties keep priority", () => {
    const usage = new Map([["a", 0.9], ["b", 0.4], ["d", 0.1]]);
    assert.deepEqual(
      ids(orderAccounts({ ...base, strategy: "least-used", usage })),
      ["c", "d", "b", "a", "n"],
    );
    assert.deepEqual(
      ids(orderAccounts({ ...base, strategy: "least-used", usage, affinityId: "a" })),
      ["a", "c", "d", "b", "n"],
    );
    assert.deepEqual(
      ids(orderAccounts({ ...base, strategy: "least-used" })),
      ["a", "b", "c", "d", "n"],
      "nothing known: priority order",
    );
  });
});

Deno.test("leastUsedScore: the tightest window that has not reset", () => {
  const now = 1_000_000;
  assert.equal(leastUsedScore(undefined, now), undefined);
  assert.equal(leastUsedScore([], now), undefined);
  assert.equal(
    leastUsedScore([
      { name: "5h", usedFraction: 0.2, resetsAt: now + 1 },
      { name: "7d", usedFraction: 0.7, resetsAt: now + 10 },
    ], now),
    0.7,
  );
  assert.equal(
    leastUsedScore([
      { name: "5h", usedFraction: 0.2, resetsAt: now + 1 },
      { name: "7d", usedFraction: 0.7, resetsAt: now },
    ], now),
    0.2,
    "a window past its reset counts as 0",
  );
  assert.equal(leastUsedScore([{ name: "w", usedFraction: 1.7 }], now), 1, "clamped");
  assert.equal(leastUsedScore([{ name: "w", usedFraction: Number.NaN }], now), 0);
});

Deno.test("Selector: strategy cache, per-instance turns, usage from recorded headroom", async (t) => {
  await using deps = await testDeps();
  let randomCalls = 0;
  deps.random = (n) => {
    if (n === 4) randomCalls++; // the turn's start (ids take other lengths)
    return new Uint8Array(n); // turn starts at 0
  };
  const other = await testDeps({ kv: deps.kv, clock: deps.clock }); // a second instance
  const selector = new Selector(deps, new CooldownCache(deps));
  const otherSelector = new Selector(other, new CooldownCache(other));
  const input = { ...base, accounts: ACCOUNTS.filter((a) => a.id !== "n") };
  const first = async (s: Selector) => (await s.order("codex", "gpt-5.5", input))[0]!.id;

  await t.step("default is fill-first", async () => {
    assert.equal(await selector.strategy("codex"), "fill-first");
    assert.equal(await first(selector), "b");
  });

  await t.step("a change is seen at once here and within the TTL elsewhere", async () => {
    assert.equal(await otherSelector.strategy("codex"), "fill-first");
    await setSelectionStrategy(deps, "codex", "round-robin");
    assert.equal(await selector.strategy("codex"), "round-robin");
    assert.equal(await otherSelector.strategy("codex"), "fill-first", "cached");
    deps.clock.advance(STRATEGY_CACHE_TTL_MS);
    assert.equal(await otherSelector.strategy("codex"), "round-robin");
    assert.equal(await selector.strategy("claude"), "fill-first", "per provider");
  });

  await t.step("a read after a local change does not join a load begun before it", async () => {
    // A KV whose strategy reads answer only when the gate opens (after they have read).
    let gate = Promise.withResolvers<void>();
    const kv = new Proxy(deps.kv, {
      get(target, prop) {
        if (prop === "getMany") {
          return async (...args: Parameters<Deno.Kv["getMany"]>) => {
            const entries = await target.getMany(...args);
            await gate.promise;
            return entries;
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const gated = new Selector({ ...deps, kv }, new CooldownCache(deps));
    const before = gated.strategy("claude");
    await setSelectionStrategy(deps, "claude", "least-used");
    const after = gated.strategy("claude");
    gate.resolve();
    assert.equal(await before, "fill-first");
    assert.equal(await after, "least-used");
    gate = Promise.withResolvers<void>();
    gate.resolve();
    assert.equal(await gated.strategy("claude"), "least-used", "the old load is not cached");
    await setSelectionStrategy(deps, "claude", "fill-first");
  });

  await t.step("round-robin: the turn moves once per request, not on affinity hits", async () => {
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await first(selector));
    assert.deepEqual(seen, ["a", "b", "c", "a", "b", "c"]);
    const sticky = await selector.order("codex", "gpt-5.5", { ...input, affinityId: "c" });
    assert.equal(sticky[0]!.id, "c");
    assert.equal(await first(selector), "a", "the affinity hit did not take a turn");
    assert.equal(randomCalls, 1, "one random start per provider and instance");
  });

  await t.step("round-robin skips cooling accounts in its rotation", async () => {
    await new CooldownCache(deps).set({
      accountId: "b",
      model: "*",
      until: deps.now() + 60_000,
      reason: "test",
      status: 429,
    });
    deps.clock.advance(1_000); // the selector's cooldown cache re-reads
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await first(selector));
    assert.equal(seen.filter((id) => id === "b").length, 0);
    assert.equal(seen.filter((id) => id === "a").length, 2);
    assert.equal(seen.filter((id) => id === "c").length, 2);
  });

  await t.step(
    "least-used reads the recorded headroom, cached for USAGE_CACHE_TTL_MS",
    async () => {
      await setSelectionStrategy(deps, "codex", "least-used");
      const now = deps.now();
      const write = (id: string, used: number) =>
        deps.kv.set(keys.accountQuota(id), {
          updatedAt: now,
          windows: [{ name: "primary", usedFraction: used, resetsAt: now + 3_600_000 }],
        });
      await write("a", 0.5);
      await write("b", 0.2);
      await write("c", 0.9);
      await write("d", 0.6);
      assert.deepEqual(ids(await selector.order("codex", "gpt-5.5", input)), ["b", "a", "d", "c"]);
      await write("b", 0.95);
      assert.equal(await first(selector), "b", "still the cached reading");
      deps.clock.advance(USAGE_CACHE_TTL_MS);
      assert.deepEqual(ids(await selector.order("codex", "gpt-5.5", input)), ["a", "d", "c", "b"]);
      deps.clock.advance(3_600_000);
      assert.equal(await first(selector), "a", "all windows reset: priority order again");
    },
  );
});

Deno.test("round-robin with several instances: each rotates on its own, together evenly", async () => {
  await using first = await testDeps();
  await setSelectionStrategy(first, "codex", "round-robin");
  const accounts = ACCOUNTS.filter((a) => a.priority === 0 && !a.needsLogin && a.enabled);
  const counts = new Map<string, number>();
  // Five instances on one KV, each with its own random start.
  for (let instance = 0; instance < 5; instance++) {
    const deps = await testDeps({ kv: first.kv, clock: first.clock });
    deps.random = (n) => new Uint8Array(n).fill(instance * 37 + 1);
    const selector = new Selector(deps, new CooldownCache(deps));
    for (let i = 0; i < 30; i++) {
      const [chosen] = await selector.order("codex", "gpt-5.5", { ...base, accounts });
      counts.set(chosen!.id, (counts.get(chosen!.id) ?? 0) + 1);
    }
  }
  assert.deepEqual(Object.fromEntries(counts), { a: 50, b: 50, c: 50 });
});

/**
 * The selection strategies end to end: requests through the proxy routes to
 * the Codex fake, counting which account each backend request used.
 */
import assert from "node:assert/strict";
import { startHarness } from "./harness.ts";
import { bearer } from "../fakes/server.ts";
import { CODEX_PATH } from "../fakes/chatgpt.ts";
import { patchAccount } from "../../src/accounts/repository.ts";
import { setSelectionStrategy } from "../../src/accounts/selection_settings.ts";
import { keys } from "../../src/kv/keys.ts";
import { USAGE_CACHE_TTL_MS } from "../../src/proxy/selector.ts";
import { QUOTA_WRITE_INTERVAL_MS } from "../../src/proxy/quota_headroom.ts";

const body = { model: "gpt-5.5", input: "hello", stream: false };

async function served(
  h: Awaited<ReturnType<typeof startHarness>>,
  count: number,
  headers: HeadersInit = {},
): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await h.request("/openai/v1/responses", body, headers);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    out.push(res.headers.get("x-kleis-account")!);
  }
  return out;
}

function tally(list: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of list) out[id] = (out[id] ?? 0) + 1;
  return out;
}

Deno.test("round-robin spreads requests evenly over the accounts of equal priority", async (t) => {
  await using h = await startHarness();
  const a = await h.codexAccount("a");
  const b = await h.codexAccount("b");
  const c = await h.codexAccount("c");
  const fallback = await h.codexAccount("fallback");
  for (const x of [a, b, c]) await patchAccount(h.deps, x.account.id, { priority: 0 });
  await patchAccount(h.deps, fallback.account.id, { priority: 5 });

  await t.step("fill-first (default): every request on the primary", async () => {
    assert.deepEqual(tally(await served(h, 6)), { [a.account.id]: 6 });
  });

  await setSelectionStrategy(h.deps, "codex", "round-robin");

  await t.step(
    "round-robin: 30 requests, 10 per account, in turn, none on the fallback",
    async () => {
      h.fakes.chatgpt.clearRequests();
      const ids = await served(h, 30);
      assert.deepEqual(tally(ids), { [a.account.id]: 10, [b.account.id]: 10, [c.account.id]: 10 });
      for (let i = 3; i < ids.length; i++) assert.equal(ids[i], ids[i - 3], "a fixed rotation");
      // The backend saw exactly these, one request each (no failover, no retries).
      const tokens = h.fakes.chatgpt.requestsTo(CODEX_PATH).map(bearer);
      assert.equal(tokens.length, 30);
      assert.equal(tokens.filter((x) => x === fallback.accessToken).length, 0);
    },
  );

  await t.step("a session stays on its account on top of the rotation", async () => {
    const ids = await served(h, 6, { session_id: "sess-1" });
    assert.equal(new Set(ids).size, 1);
  });

  await t.step("an account cooling down: its share goes evenly to the others", async () => {
    const resetSec = Math.floor(h.deps.now() / 1000) + 3600;
    h.fakes.chatgpt.failWhen((req) =>
      bearer(req) === b.accessToken
        ? {
          status: 429,
          body: { error: { type: "usage_limit_reached", message: "limit", resets_at: resetSec } },
        }
        : undefined
    );
    const ids = await served(h, 21);
    const counts = tally(ids);
    assert.equal(counts[b.account.id], undefined);
    assert.equal(counts[fallback.account.id], undefined);
    // After b's cooldown is known, a and c alternate: at most one apart.
    assert.ok(
      Math.abs((counts[a.account.id] ?? 0) - (counts[c.account.id] ?? 0)) <= 1,
      `${JSON.stringify(counts)}`,
    );
  });

  await t.step("back to fill-first: the primary again", async () => {
    await setSelectionStrategy(h.deps, "codex", "fill-first");
    assert.deepEqual(tally(await served(h, 4)), { [a.account.id]: 4 });
  });
});

Deno.test("least-used follows the quota headroom the backend reports", async (t) => {
  await using h = await startHarness();
  const a = await h.codexAccount("a");
  const b = await h.codexAccount("b");
  const c = await h.codexAccount("c");
  // The tightest window decides: a 80%, b 40% (weekly), c 60%.
  h.fakes.chatgpt.quotaByToken.set(a.accessToken, {
    primaryUsedPercent: 80,
    secondaryUsedPercent: 10,
  });
  h.fakes.chatgpt.quotaByToken.set(b.accessToken, {
    primaryUsedPercent: 20,
    secondaryUsedPercent: 40,
  });
  h.fakes.chatgpt.quotaByToken.set(c.accessToken, {
    primaryUsedPercent: 60,
    secondaryUsedPercent: 5,
  });
  await setSelectionStrategy(h.deps, "codex", "least-used");

  /** One request, then waits (bounded) for the account's headroom when a write is due. */
  const written = new Map<string, number>();
  const one = async () => {
    const [id] = await served(h, 1);
    const last = written.get(id!);
    if (last === undefined || h.deps.now() - last >= QUOTA_WRITE_INTERVAL_MS) {
      for (let i = 0; i < 500; i++) {
        const stored = await h.deps.kv.get<{ updatedAt: number }>(keys.accountQuota(id!));
        if (stored.value?.updatedAt === h.deps.now()) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      written.set(id!, h.deps.now());
    }
    h.deps.clock.advance(USAGE_CACHE_TTL_MS);
    return id!;
  };

  await t.step(
    "unknown accounts are tried first (in priority order), then the least used",
    async () => {
      const ids = [await one(), await one(), await one()];
      assert.deepEqual(ids, [a.account.id, b.account.id, c.account.id]);
      const next = [];
      for (let i = 0; i < 5; i++) next.push(await one());
      assert.deepEqual(tally(next), { [b.account.id]: 5 });
    },
  );

  await t.step("when b's usage passes c's, new readings move the traffic to c", async () => {
    h.fakes.chatgpt.quotaByToken.set(b.accessToken, { primaryUsedPercent: 95 });
    h.deps.clock.advance(QUOTA_WRITE_INTERVAL_MS); // b's next answer is written again
    assert.equal(await one(), b.account.id, "the answer that brings the new reading");
    const next = [];
    for (let i = 0; i < 4; i++) next.push(await one());
    assert.deepEqual(tally(next), { [c.account.id]: 4 });
  });
});

/**
 * The lockout under parallel guessing: a burst of wrong admin tokens or API
 * keys from one address, all sent at once, gets no more answered 401 than
 * the threshold allows (the margin the issue allows is threshold + 2; Kleis
 * answers at most THRESHOLD − 1 with 401, see src/auth/lockout.ts), on one
 * instance or two sharing one KV file, while other addresses carry on.
 */
import assert from "node:assert/strict";
import { testDeps } from "../support/test_deps.ts";
import { twoInstances } from "../support/two_instances.ts";
import { createApp } from "../../src/app.ts";
import { attemptGate } from "../../src/auth/attempt_gate.ts";
import {
  LOCKOUT_DURATION_MS,
  LOCKOUT_THRESHOLD,
  recordAuthFailure,
} from "../../src/auth/lockout.ts";
import { listAudit } from "../../src/audit.ts";
import { keys } from "../../src/kv/keys.ts";
import { callWithKey, createKey, fromAddress } from "../keys/helpers.ts";

type App = ReturnType<typeof createApp>;

const BURST = 100;
const ATTACKER = "198.51.100.200";
const BYSTANDER = "198.51.100.201";

interface Answer {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

async function answer(res: Response): Promise<Answer> {
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
}

async function adminGet(app: App, token: string, address: string): Promise<Answer> {
  return await answer(
    await app.request("/admin/keys", {
      headers: { authorization: `Bearer ${token}` },
    }, fromAddress(address)),
  );
}

/** Statuses of a burst's answers, counted. */
function tally(answers: Answer[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const a of answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
  return counts;
}

/** Every answer is 401, or 429 `locked_out` with a Retry-After within the lockout. */
function assertBurstAnswers(answers: Answer[], codeOf: (a: Answer) => unknown): void {
  const counts = tally(answers);
  assert.deepEqual([...counts.keys()].sort(), [401, 429], JSON.stringify([...counts]));
  const unauthorized = counts.get(401)!;
  assert.ok(unauthorized <= LOCKOUT_THRESHOLD + 2, `${unauthorized} answered 401`);
  // The answer to a wrong credential comes from the commit that counted it,
  // so exactly THRESHOLD − 1 are counted below the threshold, on any number
  // of instances.
  assert.equal(unauthorized, LOCKOUT_THRESHOLD - 1);
  for (const a of answers.filter((a) => a.status === 429)) {
    assert.equal(codeOf(a), "locked_out");
    const seconds = Number(a.retryAfter);
    assert.ok(seconds >= 1 && seconds <= LOCKOUT_DURATION_MS / 1000, String(a.retryAfter));
  }
}

async function auditCounts(kv: Deno.Kv, address: string) {
  const { entries } = await listAudit(kv, { limit: 500 });
  const of = (action: string) =>
    entries.filter((e) => e.action === action && e.address === address).length;
  return {
    adminFailed: of("admin.login_failed"),
    adminLockouts: of("admin.lockout"),
    keyLockouts: of("key.auth_lockout"),
  };
}

const adminCode = (a: Answer) => (a.body.error as Record<string, unknown>).code;
const openaiCode = adminCode;

Deno.test("100 simultaneous wrong admin tokens from one address", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const token = deps.config.adminToken;

  // The right token sent amid the burst (after more wrong ones than the
  // threshold) is answered in arrival order: after the lockout, so it does
  // not stand out as the right guess.
  const burst = Array.from(
    { length: BURST },
    (_, i) => adminGet(app, i === BURST / 2 ? token : `guess-${i}`, ATTACKER),
  );
  const bystanders = Array.from({ length: 10 }, () => adminGet(app, token, BYSTANDER));
  const bystanderWrong = adminGet(app, "bystander-typo", BYSTANDER);
  const answers = await Promise.all(burst);

  await t.step(`at most threshold + 2 answered 401, the rest 429 with Retry-After`, () => {
    const wrong = answers.filter((_, i) => i !== BURST / 2);
    assertBurstAnswers(wrong, adminCode);
    assert.deepEqual(adminCode(wrong.find((a) => a.status === 401)!), "unauthorized");
  });

  await t.step("the right token sent amid the burst is refused like the guesses", () => {
    const right = answers[BURST / 2]!;
    assert.equal(right.status, 429);
    assert.equal(adminCode(right), "locked_out");
  });

  await t.step("other addresses are unaffected during the burst", async () => {
    for (const a of await Promise.all(bystanders)) assert.equal(a.status, 200);
    assert.equal((await bystanderWrong).status, 401);
  });

  await t.step("afterwards the address stays locked, even with the right token", async () => {
    const res = await adminGet(app, token, ATTACKER);
    assert.equal(res.status, 429);
    assert.equal(res.retryAfter, String(LOCKOUT_DURATION_MS / 1000));
  });

  await t.step("audit: one lockout, one login_failed per counted failure; gate empty", async () => {
    assert.deepEqual(await auditCounts(deps.kv, ATTACKER), {
      adminFailed: LOCKOUT_THRESHOLD,
      adminLockouts: 1,
      keyLockouts: 0,
    });
    assert.equal(attemptGate(deps).size, 0);
  });
});

Deno.test("100 simultaneous unknown API keys from one address on a proxy route", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);
  const { secret } = await createKey(app, deps, { label: "good" });
  // Known to this instance (its hash is cached) before the burst.
  assert.equal((await callWithKey(app, secret, { address: BYSTANDER })).status, 200);

  const burst = Array.from({ length: BURST }, (_, i) => {
    if (i === BURST / 2) return callWithKey(app, secret, { address: ATTACKER }).then(answer);
    // Half Bearer on /v1/models, half x-api-key on the Anthropic prefix.
    return i % 2
      ? callWithKey(app, `kleis_guess${i}`, { address: ATTACKER }).then(answer)
      : callWithKey(app, `kleis_guess${i}`, {
        address: ATTACKER,
        header: "x-api-key",
        path: "/anthropic/v1/models",
      }).then(answer);
  });
  const bystanders = Array.from(
    { length: 10 },
    () => callWithKey(app, secret, { address: BYSTANDER }).then(answer),
  );
  const answers = await Promise.all(burst);

  await t.step("at most threshold + 2 answered 401, the rest 429 in the native shapes", () => {
    const wrong = answers.filter((_, i) => i !== BURST / 2);
    // Anthropic: {type:"error", error:{type}}; OpenAI: {error:{code}}.
    assertBurstAnswers(wrong, (a) => {
      const error = a.body.error as Record<string, unknown>;
      return a.body.type === "error"
        ? (error.type === "rate_limit_error" && "locked_out")
        : error.code;
    });
    for (const a of wrong.filter((a) => a.status === 401)) {
      const error = a.body.error as Record<string, unknown>;
      assert.ok(error.code === "invalid_api_key" || error.type === "authentication_error");
    }
  });

  await t.step("a valid key sent amid the burst is refused like the guesses", () => {
    assert.equal(answers[BURST / 2]!.status, 429);
    assert.equal(openaiCode(answers[BURST / 2]!), "locked_out");
  });

  await t.step("other addresses are unaffected during the burst", async () => {
    for (const a of await Promise.all(bystanders)) assert.equal(a.status, 200);
    const typo = await callWithKey(app, "kleis_typo", { address: BYSTANDER });
    assert.equal(typo.status, 401);
    await typo.body?.cancel();
  });

  await t.step("one key.auth_lockout audit entry; gate empty", async () => {
    assert.equal((await auditCounts(deps.kv, ATTACKER)).keyLockouts, 1);
    assert.equal(attemptGate(deps).size, 0);
  });
});

Deno.test("50 + 50 wrong credentials across two instances sharing one KV", async (t) => {
  await using pair = await twoInstances();
  const { a, b, appA, appB } = pair;
  const { secret } = await createKey(appA, a, { label: "good" });

  await t.step("admin tokens: at most threshold + 2 answered 401, the rest 429", async () => {
    const burst = Array.from(
      { length: BURST },
      (_, i) => adminGet(i % 2 ? appA : appB, `guess-${i}`, ATTACKER),
    );
    const bystanders = Array.from(
      { length: 10 },
      (_, i) => adminGet(i % 2 ? appA : appB, a.config.adminToken, BYSTANDER),
    );
    assertBurstAnswers(await Promise.all(burst), adminCode);
    for (const answer of await Promise.all(bystanders)) assert.equal(answer.status, 200);
    assert.deepEqual(await auditCounts(a.kv, ATTACKER), {
      adminFailed: LOCKOUT_THRESHOLD,
      adminLockouts: 1,
      keyLockouts: 0,
    });
    assert.equal((await adminGet(appB, b.config.adminToken, ATTACKER)).status, 429);
  });

  await t.step("API keys: at most threshold + 2 answered 401, the rest 429", async () => {
    const burst = Array.from(
      { length: BURST },
      (_, i) =>
        callWithKey(i % 2 ? appA : appB, `kleis_guess${i}`, { address: ATTACKER }).then(answer),
    );
    const bystanders = Array.from(
      { length: 10 },
      (_, i) => callWithKey(i % 2 ? appA : appB, secret, { address: BYSTANDER }).then(answer),
    );
    assertBurstAnswers(await Promise.all(burst), openaiCode);
    for (const answer of await Promise.all(bystanders)) assert.equal(answer.status, 200);
    assert.equal((await auditCounts(a.kv, ATTACKER)).keyLockouts, 1);
    assert.equal((await callWithKey(appA, secret, { address: ATTACKER })).status, 429);
  });
});

Deno.test("recordAuthFailure() decides the answer from the commit that counts the failure", async (t) => {
  await using deps = await testDeps();
  const address = "192.0.2.44";

  await t.step("below the threshold: 0 (answer 401)", async () => {
    for (let i = 0; i < LOCKOUT_THRESHOLD - 1; i++) {
      assert.equal(await recordAuthFailure(deps, "admin", address), 0);
    }
  });

  await t.step("the threshold-th: the whole lockout", async () => {
    assert.equal(await recordAuthFailure(deps, "admin", address), LOCKOUT_DURATION_MS);
  });

  await t.step("while locked: what is left, and nothing more is counted", async () => {
    deps.clock.advance(60_000);
    const before = await deps.kv.get(keys.lockout("admin", address));
    assert.equal(await recordAuthFailure(deps, "admin", address), LOCKOUT_DURATION_MS - 60_000);
    const after = await deps.kv.get(keys.lockout("admin", address));
    assert.equal(after.versionstamp, before.versionstamp);
  });

  await t.step("a failure that cannot be counted (contention) is refused, not judged", async () => {
    // Every commit loses its versionstamp check, as under a heavy burst.
    const kv = deps.kv;
    const contended = new Proxy(kv, {
      get(target, property) {
        if (property === "atomic") {
          return () => {
            const op = target.atomic();
            op.commit = () => Promise.resolve({ ok: false });
            return op;
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const retry = await recordAuthFailure({ ...deps, kv: contended }, "admin", "192.0.2.45");
    assert.ok(retry > 0);
    assert.equal((await kv.get(keys.lockout("admin", "192.0.2.45"))).value, null);
    assert.ok(deps.logLines.some((l) => l.includes("contention")));
  });
});

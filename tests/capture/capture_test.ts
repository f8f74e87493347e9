/**
 * Request capture through the whole in-process app (key middleware, proxy,
 * admin routes) against the backend fakes: switched on for one key only,
 * the request as sent upstream and the answer as sent to the client, with
 * every secret redacted, truncation, the count cap, expiry by the injected
 * clock, audit entries, and the admin API's refusals.
 */
import assert from "node:assert/strict";
import { listAudit } from "../../src/audit.ts";
import { keys } from "../../src/kv/keys.ts";
import { accountsEnv, seedAccount } from "../accounts/helpers.ts";

const RETENTION_MS = 3_600_000;
const MAX_BODY = 4096;
const MAX_PER_KEY = 4;

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

async function setup() {
  const env = await accountsEnv({
    config: {
      capture: Object.freeze({
        retentionMs: RETENTION_MS,
        maxBodyBytes: MAX_BODY,
        maxPerKey: MAX_PER_KEY,
      }),
    },
  });
  const { tokens: claude } = await seedAccount(env, "claude", { expiresInSec: 8 * 3600 });
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await env.admin(method, path, body);
    return { ...res, json: res.json as Json, text: JSON.stringify(res.json) };
  };
  const createKey = async (label: string) => {
    const res = await admin("POST", "/keys", { label });
    assert.equal(res.status, 201);
    return { id: res.json.key.id as string, secret: res.json.secret as string };
  };
  const ask = async (
    secret: string,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await env.app.request("/anthropic/v1/messages", {
      method: "POST",
      headers: {
        "x-api-key": secret,
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "user-agent": "capture-test/1.0",
        ...headers,
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }, { remoteAddr: { hostname: "198.51.100.7" } });
    return { status: res.status, text: await res.text() };
  };
  return {
    fakes: env.fakes,
    deps: env.deps,
    admin,
    createKey,
    ask,
    claude,
    [Symbol.asyncDispose]: () => env[Symbol.asyncDispose](),
  };
}

/** Captures are written after the answer, in the background: wait for `n` of them. */
async function waitForCaptures(
  env: Awaited<ReturnType<typeof setup>>,
  keyId: string,
  n: number,
): Promise<Json[]> {
  const deadline = Date.now() + 10_000;
  while (true) {
    const res = await env.admin("GET", `/keys/${keyId}/captures`);
    assert.equal(res.status, 200, res.text);
    if (res.json.captures.length >= n) return res.json.captures;
    assert.ok(Date.now() < deadline, `only ${res.json.captures.length} of ${n} captures arrived`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const message = (text: string, stream = false) => ({
  model: "claude-sonnet-4-5",
  max_tokens: 64,
  stream,
  messages: [{ role: "user", content: text }],
});

Deno.test("request capture: one key only, as sent and as answered, secrets redacted, bounded", async (t) => {
  await using env = await setup();
  const a = await env.createKey("captured");
  const b = await env.createKey("not captured");
  const secrets = [
    a.secret,
    b.secret,
    env.claude.access_token,
    env.claude.refresh_token,
    env.deps.config.adminToken,
  ];
  const assertNoSecret = (text: string) => {
    for (const s of secrets) assert.ok(!text.includes(s), `a secret leaked: ${s.slice(0, 12)}…`);
  };

  await t.step("bad input is refused in the admin error shape and changes nothing", async () => {
    for (
      const body of [
        { durationSeconds: 10 },
        { durationSeconds: 86_401 },
        { durationSeconds: "600" },
        { durationSeconds: 60.5 },
        { minutes: 5 },
      ]
    ) {
      const res = await env.admin("POST", `/keys/${a.id}/capture`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json.error.code, "invalid_request");
    }
    const notJson = await env.admin("POST", `/keys/${a.id}/capture`, "{");
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.error.code, "invalid_json");
    const unknown = await env.admin("POST", "/keys/key_nope/capture", {});
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, "not_found");
    assert.equal((await env.admin("GET", "/keys/key_nope/captures")).status, 404);
    const key = await env.admin("GET", `/keys/${a.id}`);
    assert.equal(key.json.key.capture, undefined);
    const audit = await listAudit(env.deps.kv, { limit: 50 });
    assert.ok(!audit.entries.some((e) => e.action === "key.capture_started"));
  });

  let until = 0;
  await t.step("starting is audited and shown on the key", async () => {
    const res = await env.admin("POST", `/keys/${a.id}/capture`, { durationSeconds: 600 });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.capture, {
      active: true,
      startedAt: env.deps.now(),
      until: env.deps.now() + 600_000,
    });
    until = res.json.capture.until;
    const key = await env.admin("GET", `/keys/${a.id}`);
    assert.equal(key.json.key.capture.until, until);
    const audit = await listAudit(env.deps.kv, { limit: 50 });
    const started = audit.entries.find((e) => e.action === "key.capture_started");
    assert.equal(started?.target, a.id);
    assert.equal(started?.details?.seconds, 600);
  });

  let firstId = "";
  await t.step("a request of the key is captured; the other key's is not", async () => {
    const other = await env.ask(b.secret, message("from key b"));
    assert.equal(other.status, 200);
    // Secrets the client put in its own prompt: they go upstream, never into the capture.
    const leaky = `my key ${a.secret} and token ${env.claude.access_token} and ` +
      `https://user:hunter2pass@proxy.example:8080 and {"refresh_token":"plain-refresh-value"}`;
    const mine = await env.ask(a.secret, message(leaky));
    assert.equal(mine.status, 200, mine.text);
    const list = await waitForCaptures(env, a.id, 1);
    assert.equal(list.length, 1);
    assert.equal((await env.admin("GET", `/keys/${b.id}/captures`)).json.captures.length, 0);
    const [summary] = list;
    firstId = summary!.id;
    assert.equal(summary!.endpoint, "/anthropic/v1/messages");
    assert.equal(summary!.status, 200);
    assert.equal(summary!.provider, "claude");
    assert.equal(summary!.model, "claude-sonnet-4-5");
    assert.equal(summary!.client, "198.51.100.7");
    assert.equal(summary!.userAgent, "capture-test/1.0");
    assert.equal(summary!.attempts, 1);
    assert.equal(summary!.outcome, "completed");
    assert.ok(summary!.upstreamUrl.startsWith(env.fakes.env.KLEIS_UPSTREAM_ANTHROPIC));
  });

  await t.step("the capture holds the rewritten request and the answer, redacted", async () => {
    const res = await env.admin("GET", `/keys/${a.id}/captures/${firstId}`);
    assert.equal(res.status, 200);
    assertNoSecret(res.text);
    const c = res.json.capture;
    const upstreamHeaders = new Map(c.upstream.headers as [string, string][]);
    assert.equal(upstreamHeaders.get("authorization"), "[redacted]");
    assert.ok(upstreamHeaders.has("anthropic-beta"), "Kleis's own upstream headers are kept");
    const sent = JSON.parse(c.requestBody);
    // Kleis's rewriting is visible: the Claude Code identity block it adds.
    assert.match(JSON.stringify(sent.system), /Claude Code/);
    const prompt = JSON.stringify(sent.messages);
    assert.match(prompt, /my key \[redacted\] and token \[redacted\]/);
    assert.match(prompt, /https:\/\/\[redacted\]@proxy\.example:8080/);
    assert.match(prompt, /refresh_token\\":\\"\[redacted\]/);
    assert.equal(c.answer.status, 200);
    const answerHeaders = new Map(c.answer.headers as [string, string][]);
    assert.equal(answerHeaders.get("x-kleis-request-id"), c.requestId);
    assert.equal(JSON.parse(c.answerBody).content[0].text, "Hello from fake Claude");
    assert.equal(c.answer.body.bytes, new TextEncoder().encode(c.answerBody).length);
    assert.equal(c.answer.body.truncated, false);
  });

  await t.step("a streamed answer is captured as the bytes the client got", async () => {
    const streamed = await env.ask(a.secret, message("stream please", true));
    assert.equal(streamed.status, 200);
    const [latest] = await waitForCaptures(env, a.id, 2);
    const c = (await env.admin("GET", `/keys/${a.id}/captures/${latest!.id}`)).json.capture;
    assert.equal(c.answerBody, streamed.text);
    assert.match(c.answerBody, /event: message_stop/);
    assert.equal(new Map(c.answer.headers).get("content-type"), "text/event-stream; charset=utf-8");
  });

  await t.step("bodies beyond the cap are cut and say so", async () => {
    const long = "x".repeat(3 * MAX_BODY);
    await env.ask(a.secret, message(long));
    const [latest] = await waitForCaptures(env, a.id, 3);
    assert.equal(latest!.truncated, true);
    const c = (await env.admin("GET", `/keys/${a.id}/captures/${latest!.id}`)).json.capture;
    assert.equal(c.upstream.body.truncated, true);
    assert.ok(c.upstream.body.bytes > 3 * MAX_BODY);
    assert.equal(new TextEncoder().encode(c.requestBody).length, MAX_BODY);
  });

  await t.step(
    "a request Kleis refuses itself is captured without an upstream request",
    async () => {
      const bad = await env.ask(a.secret, "{not json");
      assert.equal(bad.status, 400);
      const [latest] = await waitForCaptures(env, a.id, 4);
      assert.equal(latest!.status, 400);
      assert.equal(latest!.upstreamUrl, null);
      const c = (await env.admin("GET", `/keys/${a.id}/captures/${latest!.id}`)).json.capture;
      assert.equal(c.upstream, null);
      assert.equal(c.requestBody, null);
      assert.match(c.answerBody, /invalid_request_error/);
    },
  );

  await t.step("only the newest captures per key are kept", async () => {
    await env.ask(a.secret, message("fifth"));
    const deadline = Date.now() + 10_000;
    let list: Json[] = [];
    // The fifth capture replaces the oldest: the first one goes.
    while (true) {
      list = (await env.admin("GET", `/keys/${a.id}/captures`)).json.captures;
      if (!list.some((c) => c.id === firstId) && list.length === MAX_PER_KEY) break;
      assert.ok(Date.now() < deadline, `captures not trimmed: ${list.length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await env.admin("GET", `/keys/${a.id}/captures/${firstId}`)).status, 404);
    const bodies = await Array.fromAsync(
      env.deps.kv.list({ prefix: keys.captureBodiesOf(a.id, firstId) }),
    );
    assert.equal(bodies.length, 0, "the removed capture's bodies are gone too");
  });

  await t.step("the switch ends by itself at its end time", async () => {
    env.deps.clock.set(until);
    const before = (await env.admin("GET", `/keys/${a.id}/captures`)).json.captures.length;
    assert.equal((await env.ask(a.secret, message("after the end"))).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    const after = await env.admin("GET", `/keys/${a.id}/captures`);
    assert.equal(after.json.captures.length, before);
    assert.deepEqual(after.json.capture, { active: false });
    assert.equal((await env.admin("GET", `/keys/${a.id}`)).json.key.capture, undefined);
  });

  await t.step("captures expire after the retention period (judged by the clock)", async () => {
    const list = (await env.admin("GET", `/keys/${a.id}/captures`)).json.captures as Json[];
    const newest = list[0]!;
    assert.equal(newest.expiresAt, newest.at + RETENTION_MS);
    env.deps.clock.set(newest.expiresAt);
    assert.deepEqual((await env.admin("GET", `/keys/${a.id}/captures`)).json.captures, []);
    assert.equal((await env.admin("GET", `/keys/${a.id}/captures/${newest.id}`)).status, 404);
  });

  await t.step("stop and delete are audited; nothing is captured once stopped", async () => {
    env.deps.clock.set(until + RETENTION_MS + 60_000);
    const started = await env.admin("POST", `/keys/${a.id}/capture`, {});
    assert.equal(started.json.capture.until - started.json.capture.startedAt, 3_600_000);
    await env.ask(a.secret, message("captured again"));
    const [one] = await waitForCaptures(env, a.id, 1);
    const stopped = await env.admin("DELETE", `/keys/${a.id}/capture`);
    assert.deepEqual(stopped.json, { capture: { active: false } });
    await env.ask(a.secret, message("not captured"));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await env.admin("GET", `/keys/${a.id}/captures`)).json.captures.length, 1);

    const deleted = await env.admin("DELETE", `/keys/${a.id}/captures/${one!.id}`);
    assert.deepEqual(deleted.json, { deleted: true, id: one!.id });
    assert.equal((await env.admin("DELETE", `/keys/${a.id}/captures/${one!.id}`)).status, 404);
    assert.deepEqual((await env.admin("DELETE", `/keys/${a.id}/captures`)).json, { deleted: 0 });
    const audit = await listAudit(env.deps.kv, { limit: 50 });
    const actions = audit.entries.filter((e) => e.target === a.id).map((e) => e.action);
    assert.deepEqual(actions.slice(0, 4), [
      "key.captures_deleted",
      "key.captures_deleted",
      "key.capture_stopped",
      "key.capture_started",
    ]);
  });

  await t.step("a revoked key cannot be captured", async () => {
    await env.admin("POST", `/keys/${b.id}/revoke`);
    const res = await env.admin("POST", `/keys/${b.id}/capture`, {});
    assert.equal(res.status, 409);
    assert.equal(res.json.error.code, "key_revoked");
  });

  await t.step("no secret reached the log", () => {
    assertNoSecret(env.deps.logLines.join("\n"));
  });
});

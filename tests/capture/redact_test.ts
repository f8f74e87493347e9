/**
 * Redaction of captures, and a capture that cannot be stored: the answer
 * is unchanged and whole, and the failure is only logged.
 */
import assert from "node:assert/strict";
import { Redactor } from "../../src/capture/redact.ts";
import { CaptureRecorder } from "../../src/capture/recorder.ts";
import { testDeps } from "../support/test_deps.ts";
import { testKey } from "../proxy/harness.ts";

const KEY = "kleis_" + "A1b2C3d4".repeat(5);
const OAUTH = "opaque-upstream-access-token-0123456789";

Deno.test("the redactor removes secrets by name, by value and by shape", async (t) => {
  const r = new Redactor([KEY, OAUTH, undefined, "short"]);

  await t.step("credential headers lose their value, other headers are scanned", () => {
    const headers = new Headers({
      Authorization: `Bearer ${OAUTH}`,
      "x-api-key": KEY,
      Cookie: "session=1",
      "X-Goog-Api-Key": "abc",
      "proxy-authorization": "Basic dXNlcjpwYXNz",
      "x-custom-token": "v",
      "user-agent": `tool/1 (${OAUTH})`,
      "content-type": "application/json",
    });
    const out = new Map(r.headers(headers));
    for (const name of ["authorization", "x-api-key", "cookie", "proxy-authorization"]) {
      assert.equal(out.get(name), "[redacted]", name);
    }
    assert.equal(out.get("x-custom-token"), "[redacted]");
    assert.equal(out.get("x-goog-api-key"), "[redacted]");
    assert.equal(out.get("user-agent"), "tool/1 ([redacted])");
    assert.equal(out.get("content-type"), "application/json");
  });

  await t.step("exact secrets, token shapes, credential fields, URL user info", () => {
    const text = [
      `a ${OAUTH} b`,
      `key=${KEY}`,
      "sk-ant-oat01-abcdefghijklmnopqrstuvwxyz",
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2ln",
      "ghu_abcdefghijklmnopqrstuvwxyz0123456789",
      '{"client_secret": "s3cr3t", "name": "ok"}',
      "socks5://alice:wonderland@10.0.0.1:1080",
    ].join("\n");
    const out = r.text(text);
    assert.ok(!out.includes(OAUTH));
    assert.ok(!out.includes(KEY));
    for (const leak of ["sk-ant-oat01", "eyJhbGci", "ghu_abc", "s3cr3t", "wonderland"]) {
      assert.ok(!out.includes(leak), leak);
    }
    assert.match(out, /"name": "ok"/);
    assert.match(out, /socks5:\/\/\[redacted\]@10\.0\.0\.1:1080/);
    assert.equal(r.text("short and harmless"), "short and harmless");
  });

  await t.step("a body cut inside a secret loses the secret's beginning too", () => {
    const cut = `prefix text ${OAUTH.slice(0, 20)}`;
    assert.equal(r.text(cut, true), "prefix text [redacted]");
    // Not cut: a word that happens to start like a secret stays.
    assert.equal(r.text("opaque-upstream", false), "opaque-upstream");
  });

  await t.step("query parameters named like credentials", () => {
    assert.equal(
      r.url("https://api.example/v1/x?beta=true&access_token=abc&key=zzz"),
      "https://api.example/v1/x?beta=true&access_token=[redacted]&key=[redacted]",
    );
  });
});

Deno.test("a capture that cannot be stored leaves the answer whole and is logged", async () => {
  await using deps = await testDeps();
  const failing = Object.create(deps.kv) as Deno.Kv;
  failing.set = () => Promise.reject(new Error("KV is down"));
  const recorder = new CaptureRecorder(
    { ...deps, kv: failing },
    {
      requestId: "req_1",
      key: testKey({ capture: { startedAt: 0, until: deps.now() + 60_000 } }),
      headers: new Headers({ "x-api-key": KEY }),
    },
    "/anthropic/v1/messages",
  );
  const chunks = ["data: one\n\n", "data: two\n\n", "data: three\n\n"];
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
      controller.close();
    },
  });
  const res = recorder.answer(
    new Response(source, { status: 201, headers: { "x-kleis-request-id": "req_1" } }),
  );
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-kleis-request-id"), "req_1");
  assert.equal(await res.text(), chunks.join(""));
  const deadline = Date.now() + 5000;
  while (!deps.logLines.some((l) => l.includes("could not be stored"))) {
    assert.ok(Date.now() < deadline, "the failure was not logged");
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(!deps.logLines.join("\n").includes(KEY));
});

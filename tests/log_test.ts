import assert from "node:assert/strict";
import { createLogger, redact } from "../src/log.ts";

const SECRETS = [
  "kleis_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",
  "gho_fixtureHostsToken0001",
  "ghu_fixtureEditorToken0001",
  "sk-ant-oat01-fixture-access",
  "sk-ant-ort01-fixture-refresh",
  "rt_fixture_codex_0001",
  "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE4OTM0NTYwMDB9.c2lnbmF0dXJl",
  "tid=0123456789abcdef;exp=1893456000;sku=plus;proxy-ep=proxy.example:deadbeef",
];

Deno.test("redact() replaces every kind of credential Kleis handles", async (t) => {
  for (const secret of SECRETS) {
    await t.step(secret.slice(0, 8), () => {
      const out = redact(`refresh failed for ${secret} at the provider`);
      assert.ok(!out.includes(secret), out);
      assert.match(out, /\[redacted\]/);
      assert.match(out, /^refresh failed for .* at the provider$/);
    });
  }
  await t.step("a bearer value keeps its scheme", () => {
    assert.equal(
      redact("Authorization: Bearer abcdefgh12345678"),
      "Authorization: Bearer [redacted]",
    );
  });
  await t.step("ordinary text is left alone", () => {
    assert.equal(
      redact("account acct_123 refreshed in 35 ms"),
      "account acct_123 refreshed in 35 ms",
    );
  });
});

Deno.test("createLogger() scrubs the message, nested fields and errors", () => {
  const lines: string[] = [];
  const log = createLogger((line) => lines.push(line), "debug");
  log.error(`message ${SECRETS[0]}`, {
    nested: { token: SECRETS[1], list: [SECRETS[3]] },
    error: new Error(`upstream said ${SECRETS[6]}`),
  });
  assert.equal(lines.length, 1);
  for (const secret of SECRETS) assert.ok(!lines[0]!.includes(secret), secret);
  assert.match(lines[0]!, /upstream said \[redacted\]/);
});

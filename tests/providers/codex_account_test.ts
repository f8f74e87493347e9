import assert from "node:assert/strict";
import { codexIdentity } from "../../src/providers/codex/identity.ts";
import { windowName } from "../../src/providers/codex/quota.ts";
import { parseCredentialInput } from "../../src/accounts/import.ts";
import { meansNewLogin, tokenEndpointFailure } from "../../src/providers/common/http.ts";
import { unsignedJwt } from "../fakes/world.ts";

Deno.test("codexIdentity() reads the account id from the documented claims, in order", async (t) => {
  await t.step("top-level chatgpt_account_id wins", () => {
    const id = codexIdentity({
      accessToken: unsignedJwt({
        chatgpt_account_id: "top",
        "https://api.openai.com/auth": { chatgpt_account_id: "nested", chatgpt_plan_type: "plus" },
      }),
    });
    assert.equal(id?.externalId, "top");
    assert.equal(id?.plan, "plus");
  });
  await t.step("then the auth claim, then organizations[0].id", () => {
    assert.equal(
      codexIdentity({
        accessToken: unsignedJwt({ organizations: [{ id: "org-1" }, { id: "org-2" }] }),
      })
        ?.externalId,
      "org-1",
    );
  });
  await t.step(
    "the id_token is read before the access token; email falls back to the profile claim",
    () => {
      const id = codexIdentity({
        idToken: unsignedJwt({ "https://api.openai.com/auth": { chatgpt_account_id: "from-id" } }),
        accessToken: unsignedJwt({
          "https://api.openai.com/auth": { chatgpt_account_id: "from-access" },
          "https://api.openai.com/profile": { email: "p@example.com" },
        }),
      });
      assert.equal(id?.externalId, "from-id");
      assert.equal(id?.email, "p@example.com");
      assert.equal(id?.label, "p@example.com");
    },
  );
  await t.step("no claim and no hint → undefined; a file's account_id is the hint", () => {
    assert.equal(codexIdentity({ accessToken: "not-a-jwt" }), undefined);
    assert.equal(codexIdentity({ accessToken: "x" }, { accountId: "hint" })?.externalId, "hint");
  });
});

Deno.test("windowName() names quota windows by their length", () => {
  assert.equal(windowName(18000, "primary"), "5h");
  assert.equal(windowName(604800, "secondary"), "7d");
  assert.equal(windowName(90, "x"), "2m");
  assert.equal(windowName(undefined, "primary"), "primary");
});

Deno.test("tokenEndpointFailure() tells permanent refusals from transient failures", () => {
  assert.equal(tokenEndpointFailure("r", 400, { error: "invalid_grant" }).permanent, true);
  assert.equal(
    tokenEndpointFailure("r", 401, { error: { code: "refresh_token_reused" } }).permanent,
    true,
  );
  assert.equal(tokenEndpointFailure("r", 503, undefined).permanent, false);
  assert.equal(tokenEndpointFailure("r", 429, { error: "slow" }).permanent, false);
  // Claude's "200 with an error body" under a generic user agent is not a refusal of the token.
  assert.equal(
    tokenEndpointFailure("r", 200, { error: { type: "rate_limit_error" } }).permanent,
    false,
  );
});

Deno.test("a reused refresh token means a new login, whatever the HTTP status", async (t) => {
  for (const code of ["refresh_token_reused", "refresh_token_expired", "invalid_grant"]) {
    await t.step(code, () => {
      assert.equal(meansNewLogin(code), true);
      // A 5xx or a 200 with an error body is otherwise transient; these codes are not.
      assert.equal(tokenEndpointFailure("r", 500, { error: code }).permanent, true);
      assert.equal(tokenEndpointFailure("r", 200, { error: { code } }).permanent, true);
    });
  }
  await t.step("other codes do not", () => {
    assert.equal(meansNewLogin("server_error"), false);
    assert.equal(tokenEndpointFailure("r", 500, { error: "server_error" }).permanent, false);
  });
});

Deno.test("tokenEndpointFailure() does not echo an upstream error that is not a short code", () => {
  const echoed = "bad refresh token rt_abcdefghijklmnop";
  const failure = tokenEndpointFailure("r", 400, { error: echoed });
  assert.equal(failure.code, "http_400");
  assert.equal(failure.permanent, true);
  assert.ok(!failure.message.includes("rt_abcdefghijklmnop"));
});

Deno.test("parseCredentialInput() for codex: auth.json, OpenCode entry, raw fields", () => {
  const auth = parseCredentialInput("codex", {
    OPENAI_API_KEY: null,
    tokens: { id_token: "i", access_token: "a", refresh_token: "r", account_id: "acc" },
  });
  assert.deepEqual(auth, { accessToken: "a", refreshToken: "r", idToken: "i", accountId: "acc" });
  const oc = parseCredentialInput("codex", {
    openai: { type: "oauth", refresh: "r2", access: "a2", expires: 1893456000000 },
    openrouter: { type: "api", key: "k" },
  });
  assert.deepEqual(oc, { accessToken: "a2", refreshToken: "r2", expiresAt: 1893456000000 });
  const raw = parseCredentialInput("codex", { accessToken: "a3", expiresAt: 1893456000 });
  assert.equal(raw.expiresAt, 1893456000000, "seconds are read as seconds");
  assert.throws(() => parseCredentialInput("codex", { accessToken: 5 }), /accessToken/);
  assert.throws(
    () => parseCredentialInput("codex", { anthropic: { type: "oauth", access: "x" } }),
    /openai/,
  );
});

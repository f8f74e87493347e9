import assert from "node:assert/strict";
import { checkState, parsePastedCode } from "../../src/providers/common/paste.ts";
import { parseCredentialInput } from "../../src/accounts/import.ts";

Deno.test("parsePastedCode() accepts every documented paste form", () => {
  assert.deepEqual(parsePastedCode("abc#st"), { code: "abc", state: "st" });
  assert.deepEqual(parsePastedCode(" abc "), { code: "abc" });
  assert.deepEqual(parsePastedCode("code=abc&state=st"), { code: "abc", state: "st" });
  assert.deepEqual(parsePastedCode("?code=abc"), { code: "abc" });
  assert.deepEqual(
    parsePastedCode("http://localhost:1455/auth/callback?code=abc&state=st"),
    { code: "abc", state: "st" },
  );
  assert.deepEqual(
    parsePastedCode("https://platform.claude.com/oauth/code/callback?code=abc#st"),
    { code: "abc", state: "st" },
  );
  assert.throws(() => parsePastedCode("   "), /authorization code/);
  assert.throws(
    () => parsePastedCode("http://localhost:1455/auth/callback?error=denied"),
    /authorization code/,
  );
  assert.throws(() => parsePastedCode("two words"), /authorization code/);
});

Deno.test("checkState(): a present state must match; an absent one is accepted", () => {
  checkState({ code: "c" }, "s");
  checkState({ code: "c", state: "s" }, "s");
  assert.throws(() => checkState({ code: "c", state: "t" }, "s"), /does not match/);
});

Deno.test("parseCredentialInput() for claude: .credentials.json and OpenCode entry", () => {
  const file = parseCredentialInput("claude", {
    claudeAiOauth: {
      accessToken: "sk-ant-oat01-a",
      refreshToken: "sk-ant-ort01-r",
      expiresAt: 1893456000000,
      scopes: [],
      subscriptionType: "max",
    },
  });
  assert.deepEqual(file, {
    accessToken: "sk-ant-oat01-a",
    refreshToken: "sk-ant-ort01-r",
    expiresAt: 1893456000000,
    plan: "max",
  });
  const oc = parseCredentialInput("claude", {
    anthropic: { type: "oauth", refresh: "r", access: "a", expires: 1893456000000 },
  });
  assert.deepEqual(oc, { accessToken: "a", refreshToken: "r", expiresAt: 1893456000000 });
  assert.throws(
    () => parseCredentialInput("codex", { claudeAiOauth: { accessToken: "x" } }),
    /claude/,
  );
  assert.throws(
    () => parseCredentialInput("claude", { anthropic: { type: "api", key: "k" } }),
    /not an OAuth login/,
  );
});

import assert from "node:assert/strict";
import { accountsEnv, fixture } from "./helpers.ts";
import { FIXTURE_IDENTITIES } from "../fakes/world.ts";
import { listAccounts, loadTokens } from "../../src/accounts/repository.ts";

const EXPIRY_2030 = 1893456000000;

Deno.test("import: every credential fixture lands on the right provider, identity and expiry, once", async (t) => {
  await using env = await accountsEnv();
  const cases: {
    file: string;
    provider: "codex" | "claude" | "copilot";
    externalId: string;
    expiresAt: number | null;
    email?: string;
    plan?: string;
  }[] = [
    {
      file: "codex-auth.json",
      provider: "codex",
      externalId: FIXTURE_IDENTITIES.codex.accountId,
      expiresAt: EXPIRY_2030,
      email: "dev@example.com",
      plan: "pro",
    },
    {
      file: "claude-credentials.json",
      provider: "claude",
      externalId: FIXTURE_IDENTITIES.claude.uuid,
      expiresAt: EXPIRY_2030,
      email: FIXTURE_IDENTITIES.claude.email,
      plan: "max",
    },
    {
      file: "copilot-apps.json",
      provider: "copilot",
      externalId: String(FIXTURE_IDENTITIES.github.userId),
      expiresAt: null,
    },
    {
      file: "copilot-hosts.json",
      provider: "copilot",
      externalId: String(FIXTURE_IDENTITIES.github.userId),
      expiresAt: null,
    },
    {
      file: "opencode-auth.json",
      provider: "codex",
      externalId: FIXTURE_IDENTITIES.codex.accountId,
      expiresAt: EXPIRY_2030,
    },
    {
      file: "opencode-auth.json",
      provider: "claude",
      externalId: FIXTURE_IDENTITIES.claude.uuid,
      expiresAt: EXPIRY_2030,
    },
    {
      file: "opencode-auth.json",
      provider: "copilot",
      externalId: String(FIXTURE_IDENTITIES.github.userId),
      expiresAt: null,
    },
  ];
  // Codex and Claude imports refresh at once: the expiry is then the fake's new token's.
  const refreshedExpiry = (provider: string) =>
    provider === "codex"
      ? Math.floor(env.deps.now() / 1000) * 1000 + env.fakes.openaiAuth.accessTtlSec * 1000
      : provider === "claude"
      ? env.deps.now() + env.fakes.claudePlatform.accessTtlSec * 1000
      : null;
  for (const c of cases) {
    await t.step(`${c.file} → ${c.provider}`, async () => {
      const body = await fixture(c.file);
      const first = await env.admin("POST", `/accounts/${c.provider}/import`, body);
      assert.equal(first.status, 200, JSON.stringify(first.json));
      const account = first.json.account;
      assert.equal(account.provider, c.provider);
      assert.equal(account.externalId, c.externalId);
      assert.equal(account.expiresAt, c.expiresAt === null ? null : refreshedExpiry(c.provider));
      if (c.email) assert.equal(account.email, c.email);
      if (c.plan) assert.equal(account.plan, c.plan);
      assert.equal(account.status, "active");
      if (c.provider === "copilot") assert.equal(first.json.warnings, undefined);
      else assert.match(first.json.warnings.join(" "), /CLI it came from will need a new login/);

      const again = await env.admin("POST", `/accounts/${c.provider}/import`, body);
      assert.equal(again.status, 200);
      assert.equal(again.json.account.id, account.id);
      if (c.expiresAt !== null) {
        // The file's refresh token was spent by the first import's refresh: found out now.
        assert.equal(again.json.account.status, "needs_login");
        assert.match(again.json.warnings.join(" "), /imported refresh token no longer works/);
      }
      const all = await listAccounts(env.deps.kv, c.provider);
      assert.equal(all.filter((a) => a.externalId === c.externalId).length, 1);
    });
  }

  await t.step(
    "the ghu_ token of apps.json went through the exchange, the gho_ ones did not",
    async () => {
      assert.ok(env.fakes.githubApi.exchangeCount >= 2);
      const [copilot] = await listAccounts(env.deps.kv, "copilot");
      const tokens = await loadTokens(env.deps, copilot!.id);
      // The last import was OpenCode's gho_ token: no Copilot token cached.
      assert.equal(tokens!.tokens.accessToken, "gho_fixtureOpenCodeToken0001");
      assert.equal(tokens!.tokens.copilotToken, undefined);
    },
  );

  await t.step("a file of another provider is refused and changes nothing", async () => {
    const before = (await listAccounts(env.deps.kv)).length;
    const res = await env.admin(
      "POST",
      "/accounts/codex/import",
      await fixture("claude-credentials.json"),
    );
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, "wrong_provider");
    assert.equal((await listAccounts(env.deps.kv)).length, before);
  });

  await t.step("an unknown shape and bad JSON are 400s naming the problem", async () => {
    const shape = await env.admin("POST", "/accounts/claude/import", { hello: "world" });
    assert.equal(shape.status, 400);
    assert.equal(shape.json.error.code, "unrecognised_credentials");
    const bad = await env.admin("POST", "/accounts/claude/import", "{not json");
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, "invalid_json");
    const provider = await env.admin("POST", "/accounts/gemini/import", { accessToken: "x" });
    assert.equal(provider.status, 400);
  });
});

Deno.test("import: raw fields, Claude identity unknown when the profile fails, refused tokens", async (t) => {
  await using env = await accountsEnv();

  await t.step("raw Codex fields take identity, plan and expiry from the JWT", async () => {
    const tokens = env.fakes.world.issueCodexTokens({
      accountId: "acct-raw",
      plan: "plus",
      expiresInSec: 3600,
    });
    const res = await env.admin("POST", "/accounts/codex/import", {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      label: "Raw import",
    });
    assert.equal(res.status, 200);
    assert.equal(res.json.account.externalId, "acct-raw");
    assert.equal(res.json.account.plan, "plus");
    assert.equal(res.json.account.label, "Raw import");
    // Refreshed at import: the fake's new token, not the imported one, sets the expiry.
    assert.equal(
      res.json.account.expiresAt,
      Math.floor(env.deps.now() / 1000) * 1000 + env.fakes.openaiAuth.accessTtlSec * 1000,
    );
  });

  await t.step(
    "a Claude token the profile endpoint refuses imports with a warning and a stable id",
    async () => {
      const body = {
        accessToken: "sk-ant-oat01-unknown-to-the-fake",
        refreshToken: "sk-ant-ort01-x",
      };
      const first = await env.admin("POST", "/accounts/claude/import", body);
      assert.equal(first.status, 200);
      assert.match(first.json.account.externalId, /^unverified:[0-9a-f]{24}$/);
      assert.match(first.json.warnings.join(" "), /did not confirm who this account is/);
      const second = await env.admin("POST", "/accounts/claude/import", body);
      assert.equal(second.json.account.id, first.json.account.id);
    },
  );

  await t.step("a revoked Copilot token is refused with 400 and no account", async () => {
    const token = env.fakes.world.issueCopilotToken();
    env.fakes.world.revoke(token);
    const before = (await listAccounts(env.deps.kv, "copilot")).length;
    const res = await env.admin("POST", "/accounts/copilot/import", { accessToken: token });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, "credentials_refused");
    assert.ok(!JSON.stringify(res.json).includes(token));
    assert.equal((await listAccounts(env.deps.kv, "copilot")).length, before);
  });

  await t.step("a GitHub Enterprise file entry keeps its domain in the identity", async () => {
    const token = env.fakes.world.issueCopilotToken({ userId: 4242 });
    // In tests the Enterprise "domain" is a loopback fake (host:port), reached over http.
    const res = await env.admin("POST", "/accounts/copilot/import", {
      [env.fakes.github.host]: { user: "octo", oauth_token: token },
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.account.externalId, `${env.fakes.github.host}:4242`);
  });
});

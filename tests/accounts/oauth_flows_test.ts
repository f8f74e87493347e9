import assert from "node:assert/strict";
import { accountsEnv } from "./helpers.ts";
import { s256 } from "../fakes/world.ts";
import { listAccounts, loadTokens } from "../../src/accounts/repository.ts";
import { keys } from "../../src/kv/keys.ts";

function query(url: string): URLSearchParams {
  return new URL(url).searchParams;
}

Deno.test("Copilot device flow: pending, interval honoured, slow_down, approval, replay", async (t) => {
  await using env = await accountsEnv();
  const { github } = env.fakes;
  const start = await env.admin("POST", "/accounts/copilot/oauth/start", {});
  assert.equal(start.status, 200);
  assert.equal(start.json.method, "device");
  assert.equal(start.json.authorizationUrl, `${github.url}/login/device`);
  assert.match(start.json.userCode, /^\w+-\w+$/);
  assert.equal(start.json.expiresAt, env.deps.now() + 900_000);
  const flowId = start.json.flowId;
  const complete = () => env.admin("POST", "/accounts/copilot/oauth/complete", { flowId });
  const polls = () => github.requestsTo("/login/oauth/access_token").length;

  await t.step("before the interval has passed: pending without polling GitHub", async () => {
    const res = await complete();
    assert.deepEqual(res.json, { status: "pending" });
    assert.equal(polls(), 0);
  });
  await t.step("after the interval: one poll, still pending", async () => {
    env.deps.clock.advance(6_000);
    assert.deepEqual((await complete()).json, { status: "pending" });
    assert.equal(polls(), 1);
  });
  await t.step("slow_down raises the interval; earlier calls do not poll", async () => {
    github.slowDownNext(start.json.userCode);
    env.deps.clock.advance(6_000);
    assert.deepEqual((await complete()).json, { status: "pending" });
    assert.equal(polls(), 2);
    env.deps.clock.advance(6_000); // old interval passed, the new one (10 s + margin) not yet
    assert.deepEqual((await complete()).json, { status: "pending" });
    assert.equal(polls(), 2);
  });
  await t.step("approval completes the flow with the GitHub identity", async () => {
    const who = github.approve(start.json.userCode, { userId: 31337, login: "octo-device" });
    env.deps.clock.advance(6_000);
    const res = await complete();
    assert.equal(res.status, 200);
    assert.equal(res.json.status, "complete");
    assert.equal(res.json.account.provider, "copilot");
    assert.equal(res.json.account.externalId, String(who.userId));
    assert.equal(res.json.account.label, "octo-device");
    assert.equal(res.json.account.isPrimary, true);
    assert.equal(polls(), 3, "GitHub never answered slow_down for a poll we made too early");
    const tokens = await loadTokens(env.deps, res.json.account.id);
    assert.match(tokens!.tokens.accessToken, /^gho_/);
  });
  await t.step("a replayed complete is 404", async () => {
    const res = await complete();
    assert.equal(res.status, 404);
    assert.equal(res.json.error.code, "flow_not_found");
  });
  await t.step("a second login of the same GitHub user updates the same account", async () => {
    const again = await env.admin("POST", "/accounts/copilot/oauth/start", {});
    github.approve(again.json.userCode, { userId: 31337 });
    env.deps.clock.advance(6_000);
    const res = await env.admin("POST", "/accounts/copilot/oauth/complete", {
      flowId: again.json.flowId,
    });
    assert.equal(res.json.status, "complete");
    assert.equal((await listAccounts(env.deps.kv, "copilot")).length, 1);
  });
});

Deno.test("Copilot device flow: denial, expiry at GitHub, expiry in Kleis, unknown flow", async (t) => {
  await using env = await accountsEnv();
  const { github } = env.fakes;
  const begin = async () => (await env.admin("POST", "/accounts/copilot/oauth/start", {})).json;
  await t.step("denied → 400 login_denied, then the flow is gone", async () => {
    const flow = await begin();
    github.deny(flow.userCode);
    env.deps.clock.advance(6_000);
    const res = await env.admin("POST", "/accounts/copilot/oauth/complete", {
      flowId: flow.flowId,
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, "login_denied");
    const again = await env.admin("POST", "/accounts/copilot/oauth/complete", {
      flowId: flow.flowId,
    });
    assert.equal(again.status, 404);
  });
  await t.step("expired at GitHub → 410", async () => {
    const flow = await begin();
    github.expire(flow.userCode);
    env.deps.clock.advance(6_000);
    const res = await env.admin("POST", "/accounts/copilot/oauth/complete", {
      flowId: flow.flowId,
    });
    assert.equal(res.status, 410);
    assert.equal(res.json.error.code, "flow_expired");
  });
  await t.step("past the stored expiry → 410 without asking GitHub", async () => {
    const flow = await begin();
    const before = github.requests.length;
    env.deps.clock.advance(901_000);
    const res = await env.admin("POST", "/accounts/copilot/oauth/complete", {
      flowId: flow.flowId,
    });
    assert.equal(res.status, 410);
    assert.equal(github.requests.length, before);
  });
  await t.step("unknown flow → 404; a flow of another provider → 404; bad body → 400", async () => {
    assert.equal(
      (await env.admin("POST", "/accounts/copilot/oauth/complete", { flowId: "nope" })).status,
      404,
    );
    const flow = await begin();
    assert.equal(
      (await env.admin("POST", "/accounts/codex/oauth/complete", { flowId: flow.flowId })).status,
      404,
    );
    const bad = await env.admin("POST", "/accounts/copilot/oauth/complete", { flow: 1 });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, "invalid_request");
  });
  await t.step("the flow record holds no device code in clear", async () => {
    const flow = await begin();
    const record = (await env.deps.kv.get(keys.oauthFlow(flow.flowId))).value;
    const deviceCode = [...github.flows.values()].at(-1)!.deviceCode;
    assert.ok(!JSON.stringify(record).includes(deviceCode));
  });
  await t.step("an Enterprise domain is normalised and used for the flow", async () => {
    const start = await env.admin("POST", "/accounts/copilot/oauth/start", {
      enterpriseDomain: `http://${github.host}/`,
    });
    assert.equal(start.status, 200, JSON.stringify(start.json));
    github.approve(start.json.userCode, { userId: 555 });
    env.deps.clock.advance(6_000);
    const res = await env.admin("POST", "/accounts/copilot/oauth/complete", {
      flowId: start.json.flowId,
    });
    assert.equal(res.json.account.externalId, `${github.host}:555`);
    const bad = await env.admin("POST", "/accounts/copilot/oauth/start", {
      enterpriseDomain: "http://ghe.example.com",
    });
    assert.equal(bad.status, 400);
  });
});

Deno.test("Codex browser PKCE: every paste form completes; a wrong state is refused", async (t) => {
  await using env = await accountsEnv();
  const auth = env.fakes.openaiAuth;
  const pastes: [string, (code: string, state: string) => string][] = [
    [
      "full callback URL",
      (c, s) => `http://localhost:1455/auth/callback?code=${c}&scope=x&state=${s}`,
    ],
    ["code#state", (c, s) => `${c}#${s}`],
    ["query string", (c, s) => `code=${c}&state=${s}`],
    ["bare code", (c) => `  ${c}  `],
  ];
  for (const [name, paste] of pastes) {
    await t.step(name, async () => {
      const start = await env.admin("POST", "/accounts/codex/oauth/start", {});
      assert.equal(start.json.method, "code");
      const q = query(start.json.authorizationUrl);
      assert.equal(q.get("client_id"), "app_EMoamEEZ73f0CkXaXp7hrann");
      assert.equal(q.get("redirect_uri"), "http://localhost:1455/auth/callback");
      assert.equal(q.get("code_challenge_method"), "S256");
      assert.equal(q.get("originator"), "opencode");
      assert.ok(
        start.json.authorizationUrl.includes("scope=openid%20profile%20email%20offline_access"),
      );
      const code = auth.authorize({
        codeChallenge: q.get("code_challenge")!,
        identity: { accountId: `acct-paste-${name.length}`, plan: "pro", email: "p@example.com" },
      });
      const res = await env.admin("POST", "/accounts/codex/oauth/complete", {
        flowId: start.json.flowId,
        code: paste(code, q.get("state")!),
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.account.externalId, `acct-paste-${name.length}`);
      assert.equal(res.json.account.plan, "pro");
      assert.equal(res.json.account.email, "p@example.com");
      const replay = await env.admin("POST", "/accounts/codex/oauth/complete", {
        flowId: start.json.flowId,
        code: paste(code, q.get("state")!),
      });
      assert.equal(replay.status, 404);
    });
  }
  await t.step("a state that does not match → 400, the flow stays usable", async () => {
    const start = await env.admin("POST", "/accounts/codex/oauth/start", {});
    const q = query(start.json.authorizationUrl);
    const code = auth.authorize({
      codeChallenge: q.get("code_challenge")!,
      identity: { accountId: "acct-state" },
    });
    const wrong = await env.admin("POST", "/accounts/codex/oauth/complete", {
      flowId: start.json.flowId,
      code: `${code}#not-the-state`,
    });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.error.code, "state_mismatch");
    const right = await env.admin("POST", "/accounts/codex/oauth/complete", {
      flowId: start.json.flowId,
      code: `${code}#${q.get("state")}`,
    });
    assert.equal(right.status, 200);
  });
  await t.step("a code the token endpoint refuses → 400 login_rejected", async () => {
    const start = await env.admin("POST", "/accounts/codex/oauth/start", {});
    const res = await env.admin("POST", "/accounts/codex/oauth/complete", {
      flowId: start.json.flowId,
      code: "ac_made_up",
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, "login_rejected");
  });
});

Deno.test("Codex device flow: pending until approved, then complete; expiry", async (t) => {
  await using env = await accountsEnv();
  const auth = env.fakes.openaiAuth;
  await t.step("approve", async () => {
    const start = await env.admin("POST", "/accounts/codex/oauth/start", { mode: "device" });
    assert.equal(start.json.method, "device");
    assert.equal(start.json.authorizationUrl, `${auth.url}/codex/device`);
    env.deps.clock.advance(5_000);
    const pending = await env.admin("POST", "/accounts/codex/oauth/complete", {
      flowId: start.json.flowId,
    });
    assert.deepEqual(pending.json, { status: "pending" });
    await auth.approveDevice(start.json.userCode, { accountId: "acct-device", plan: "team" });
    env.deps.clock.advance(5_000);
    const done = await env.admin("POST", "/accounts/codex/oauth/complete", {
      flowId: start.json.flowId,
    });
    assert.equal(done.json.status, "complete", JSON.stringify(done.json));
    assert.equal(done.json.account.externalId, "acct-device");
    assert.equal(done.json.account.plan, "team");
  });
  await t.step("never approved: 410 after 15 minutes", async () => {
    const start = await env.admin("POST", "/accounts/codex/oauth/start", { mode: "device" });
    env.deps.clock.advance(15 * 60_000 + 1);
    const res = await env.admin("POST", "/accounts/codex/oauth/complete", {
      flowId: start.json.flowId,
    });
    assert.equal(res.status, 410);
  });
});

Deno.test("Claude PKCE: code#state paste completes with identity and organisation", async () => {
  await using env = await accountsEnv();
  const platform = env.fakes.claudePlatform;
  const start = await env.admin("POST", "/accounts/claude/oauth/start", {});
  assert.equal(start.json.method, "code");
  const q = query(start.json.authorizationUrl);
  assert.equal(q.get("code"), "true");
  assert.equal(q.get("redirect_uri"), "https://platform.claude.com/oauth/code/callback");
  assert.equal(q.get("client_id"), "9d1c250a-e61b-44d9-88ed-5944d1962f5e");
  const verifierCheck = q.get("code_challenge")!;
  assert.equal(verifierCheck.length, 43);
  const code = platform.authorize({
    codeChallenge: verifierCheck,
    state: q.get("state")!,
    identity: { uuid: "claude-uuid-1", email: "c@example.com", orgName: "Org" },
  });
  const res = await env.admin("POST", "/accounts/claude/oauth/complete", {
    flowId: start.json.flowId,
    code: `${code}#${q.get("state")}`,
  });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.equal(res.json.account.externalId, "claude-uuid-1");
  assert.equal(res.json.account.label, "c@example.com");
  assert.equal(res.json.account.expiresAt, env.deps.now() + 28_800_000);
  const sent = platform.lastRequest("/v1/oauth/token")!;
  assert.match(sent.headers["user-agent"]!, /^claude-cli\//);
  assert.equal(await s256((sent.json as Record<string, string>)["code_verifier"]!), verifierCheck);
  const device = await env.admin("POST", "/accounts/claude/oauth/start", { mode: "device" });
  assert.equal(device.status, 400);
});

import assert from "node:assert/strict";
import { CLAUDE_CLIENT_ID, CLAUDE_REDIRECT_URI } from "./claude_platform.ts";
import { GITHUB_CLIENT_ID } from "./github.ts";
import { type AllFakes, startAllFakes } from "./mod.ts";
import { OPENAI_CLIENT_ID, OPENAI_DEVICE_REDIRECT } from "./openai_auth.ts";
import { call, copilotHeaders, form, post } from "./test_helpers.ts";
import { s256 } from "./world.ts";

Deno.test("login and token fakes reject what the real endpoints reject", async (t) => {
  const f: AllFakes = await startAllFakes();
  try {
    await t.step("github device flow: pending, slow_down, approve, token works", async () => {
      const accept = { accept: "application/json" };
      const start = await call(
        `${f.github.url}/login/device/code`,
        post({ client_id: GITHUB_CLIENT_ID, scope: "read:user" }, accept),
      );
      const flow = JSON.parse(start.text);
      assert.equal(flow.interval, 5);
      const poll = () =>
        call(
          `${f.github.url}/login/oauth/access_token`,
          post({
            client_id: GITHUB_CLIENT_ID,
            device_code: flow.device_code,
            grant_type: "urn:ietf:params:oauth:grant-type:device_code",
          }, accept),
        ).then((r) => JSON.parse(r.text));
      let clock = 1_000_000;
      f.world.now = () => clock;
      assert.equal((await poll()).error, "authorization_pending");
      assert.equal((await poll()).error, "slow_down", "polling faster than interval");
      clock += 11_000;
      f.github.approve(flow.user_code, { userId: 42, login: "octo42" });
      const ok = await poll();
      f.world.now = () => Date.now();
      assert.match(ok.access_token, /^gho_/);
      const user = await call(`${f.githubApi.url}/user`, {
        headers: { authorization: `Bearer ${ok.access_token}` },
      });
      assert.deepEqual(JSON.parse(user.text), {
        id: 42,
        login: "octo42",
        email: "octo-42@example.com",
        type: "User",
      });
      const noJson = await call(
        `${f.github.url}/login/device/code`,
        post({ client_id: GITHUB_CLIENT_ID, scope: "read:user" }),
      );
      assert.match(noJson.res.headers.get("content-type") ?? "", /x-www-form-urlencoded/);
    });

    await t.step("github api: ghu_ exchanges, gho_ gets 404, revoked gets 401", async () => {
      const editor = {
        "editor-version": "vscode/1.107.0",
        "editor-plugin-version": "copilot-chat/0.35.0",
      };
      const ex = await call(`${f.githubApi.url}/copilot_internal/v2/token`, {
        headers: { authorization: "Bearer ghu_fixtureEditorToken0001", ...editor },
      });
      const body = JSON.parse(ex.text);
      assert.equal(body.endpoints.api, f.copilot.url);
      const viaCopilot = await call(`${f.copilot.url}/models`, {
        headers: copilotHeaders(body.token),
      });
      assert.equal(viaCopilot.res.status, 200);
      const gho = await call(`${f.githubApi.url}/copilot_internal/v2/token`, {
        headers: { authorization: "Bearer gho_fixtureHostsToken0001", ...editor },
      });
      assert.equal(gho.res.status, 404);
      const token = f.world.issueCopilotToken({ userId: 7, login: "seven" });
      f.world.revoke(token);
      const revoked = await call(`${f.githubApi.url}/user`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(revoked.res.status, 401);
    });

    await t.step("openai auth: form only, PKCE checked, refresh single-use", async () => {
      const verifier = "v".repeat(43);
      const code = f.openaiAuth.authorize({
        codeChallenge: await s256(verifier),
        state: "s",
        redirectUri: "http://localhost:1455/auth/callback",
        identity: { accountId: "acct-A", plan: "plus" },
      });
      const fields = {
        grant_type: "authorization_code",
        code,
        redirect_uri: "http://localhost:1455/auth/callback",
        client_id: OPENAI_CLIENT_ID,
        code_verifier: verifier,
      };
      const asJson = await call(`${f.openaiAuth.url}/oauth/token`, post(fields));
      assert.equal(asJson.res.status, 400);
      const wrong = await call(
        `${f.openaiAuth.url}/oauth/token`,
        form({ ...fields, code_verifier: "x".repeat(43) }),
      );
      assert.equal(JSON.parse(wrong.text).error.code, "invalid_grant");
      const code2 = f.openaiAuth.authorize({ codeChallenge: await s256(verifier), state: "s" });
      const ok = await call(`${f.openaiAuth.url}/oauth/token`, form({ ...fields, code: code2 }));
      const tokens = JSON.parse(ok.text);
      assert.ok(tokens.access_token && tokens.id_token && tokens.refresh_token);
      const refresh = { grant_type: "refresh_token", refresh_token: tokens.refresh_token };
      const r1 = await call(
        `${f.openaiAuth.url}/oauth/token`,
        form({ ...refresh, client_id: OPENAI_CLIENT_ID }),
      );
      assert.equal(r1.res.status, 200);
      const r2 = await call(
        `${f.openaiAuth.url}/oauth/token`,
        form({ ...refresh, client_id: OPENAI_CLIENT_ID }),
      );
      assert.equal(r2.res.status, 400);
      assert.equal(JSON.parse(r2.text).error.code, "refresh_token_reused");
      assert.equal(f.openaiAuth.refreshCount, 2);
    });

    await t.step(
      "openai auth: a held refresh rotates nothing when the client gives up",
      async () => {
        const release = f.openaiAuth.holdRefresh();
        const abort = new AbortController();
        const pending = fetch(
          `${f.openaiAuth.url}/oauth/token`,
          {
            ...form({
              grant_type: "refresh_token",
              refresh_token: "rt_fixture_oc_codex",
              client_id: OPENAI_CLIENT_ID,
            }),
            signal: abort.signal,
          },
        ).catch(() => "aborted");
        await new Promise((r) => setTimeout(r, 30));
        abort.abort();
        assert.equal(await pending, "aborted");
        await new Promise((r) => setTimeout(r, 30)); // let the fake notice the disconnect
        release();
        const after = await call(
          `${f.openaiAuth.url}/oauth/token`,
          form({
            grant_type: "refresh_token",
            refresh_token: "rt_fixture_oc_codex",
            client_id: OPENAI_CLIENT_ID,
          }),
        );
        assert.equal(after.res.status, 200, after.text);
      },
    );

    await t.step("openai auth: device flow pending then approved", async () => {
      const start = await call(
        `${f.openaiAuth.url}/api/accounts/deviceauth/usercode`,
        post({ client_id: OPENAI_CLIENT_ID }),
      );
      const d = JSON.parse(start.text);
      assert.equal(d.interval, "5");
      const poll = () =>
        call(
          `${f.openaiAuth.url}/api/accounts/deviceauth/token`,
          post({ device_auth_id: d.device_auth_id, user_code: d.user_code }),
        );
      assert.equal((await poll()).res.status, 403);
      await f.openaiAuth.approveDevice(d.user_code, { accountId: "acct-D" });
      const got = JSON.parse((await poll()).text);
      const ok = await call(
        `${f.openaiAuth.url}/oauth/token`,
        form({
          grant_type: "authorization_code",
          code: got.authorization_code,
          redirect_uri: OPENAI_DEVICE_REDIRECT,
          client_id: OPENAI_CLIENT_ID,
          code_verifier: got.code_verifier,
        }),
      );
      assert.equal(ok.res.status, 200);
    });

    await t.step("claude platform: UA, JSON only, PKCE, rotation", async () => {
      const cli = { "user-agent": "claude-cli/2.1.87 (external, cli)" };
      const refresh = {
        grant_type: "refresh_token",
        refresh_token: "sk-ant-ort01-fixture-refresh",
        client_id: CLAUDE_CLIENT_ID,
      };
      const generic = await call(`${f.claudePlatform.url}/v1/oauth/token`, post(refresh));
      assert.equal(generic.res.status, 200);
      assert.equal(JSON.parse(generic.text).error.type, "rate_limit_error");
      const asForm = await call(`${f.claudePlatform.url}/v1/oauth/token`, {
        ...form(refresh),
        headers: { ...cli, "content-type": "application/x-www-form-urlencoded" },
      });
      assert.equal(asForm.res.status, 400);
      const r1 = await call(`${f.claudePlatform.url}/v1/oauth/token`, post(refresh, cli));
      assert.match(JSON.parse(r1.text).access_token, /^sk-ant-oat01-/);
      const r2 = await call(`${f.claudePlatform.url}/v1/oauth/token`, post(refresh, cli));
      assert.equal(r2.res.status, 400);
      assert.equal(JSON.parse(r2.text).error, "invalid_grant");
      const verifier = "w".repeat(43);
      const code = f.claudePlatform.authorize({
        codeChallenge: await s256(verifier),
        state: "st",
        identity: { uuid: "u-1", email: "a@example.com" },
      });
      const ex = await call(
        `${f.claudePlatform.url}/v1/oauth/token`,
        post({
          grant_type: "authorization_code",
          code,
          state: "st",
          client_id: CLAUDE_CLIENT_ID,
          redirect_uri: CLAUDE_REDIRECT_URI,
          code_verifier: verifier,
        }, cli),
      );
      const body = JSON.parse(ex.text);
      assert.deepEqual(body.account, { uuid: "u-1", email_address: "a@example.com" });
      assert.equal(body.expires_in, 28800);
    });
  } finally {
    await f.close();
  }
});

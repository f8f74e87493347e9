/**
 * Codex login (docs/providers/codex.md#login): browser PKCE with paste-back (default) or
 * the headless device flow (mode "device"). complete() makes one device poll
 * or one code exchange.
 */
import type { Deps } from "../../deps.ts";
import { createPkce, randomId } from "../../crypto.ts";
import { LoginFlowError } from "../common/errors.ts";
import { callProvider, num, readJsonObject, str } from "../common/http.ts";
import { checkState, parsePastedCode } from "../common/paste.ts";
import type {
  LoginCompleteInput,
  LoginResult,
  LoginStart,
  LoginStartInput,
  LoginStep,
} from "../account_types.ts";
import {
  AUTHORIZE_PATH,
  CODEX_CLIENT_ID,
  CODEX_DEVICE_REDIRECT_URI,
  CODEX_ORIGINATOR,
  CODEX_REDIRECT_URI,
  CODEX_SCOPE,
  DEFAULT_DEVICE_INTERVAL_S,
  DEVICE_FLOW_TTL_MS,
  DEVICE_TOKEN_PATH,
  DEVICE_USERCODE_PATH,
  DEVICE_VERIFY_PATH,
  PKCE_FLOW_TTL_MS,
} from "./constants.ts";
import { codexIdentity } from "./identity.ts";
import { codexTokenRequest } from "./tokens.ts";

export async function startCodexLogin(deps: Deps, input: LoginStartInput): Promise<LoginStart> {
  const auth = deps.config.upstream.openaiAuth;
  if (input.mode === "device") {
    const res = await callProvider(deps, auth + DEVICE_USERCODE_PATH, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ client_id: CODEX_CLIENT_ID }),
    });
    const body = await readJsonObject(res);
    const deviceAuthId = str(body?.["device_auth_id"]);
    const userCode = str(body?.["user_code"]);
    if (!res.ok || !deviceAuthId || !userCode) {
      throw new LoginFlowError(
        502,
        "login_start_failed",
        `OpenAI did not start the device flow (HTTP ${res.status}).`,
      );
    }
    // `interval` is a string in this API.
    const interval = num(body?.["interval"]) ?? DEFAULT_DEVICE_INTERVAL_S;
    const url = auth + DEVICE_VERIFY_PATH;
    return {
      kind: "codex_device",
      method: "device",
      authorizationUrl: url,
      userCode,
      instructions: `Open ${url}, sign in, enter the code ${userCode}, then press Complete.`,
      expiresInMs: DEVICE_FLOW_TTL_MS,
      intervalMs: interval * 1000,
      secret: { deviceAuthId, userCode },
    };
  }
  const pkce = await createPkce(deps.random);
  const state = randomId(deps.random);
  const params = new URLSearchParams({
    response_type: "code",
    client_id: CODEX_CLIENT_ID,
    redirect_uri: CODEX_REDIRECT_URI,
    scope: CODEX_SCOPE,
    code_challenge: pkce.challenge,
    code_challenge_method: "S256",
    id_token_add_organizations: "true",
    codex_cli_simplified_flow: "true",
    state,
    originator: CODEX_ORIGINATOR,
  });
  return {
    kind: "codex_pkce",
    method: "code",
    authorizationUrl: `${auth}${AUTHORIZE_PATH}?${params.toString().replaceAll("+", "%20")}`,
    instructions:
      "Open the link and sign in. Your browser then lands on a localhost page that does not load: copy the whole address from the address bar and paste it here.",
    expiresInMs: PKCE_FLOW_TTL_MS,
    secret: { verifier: pkce.verifier, state },
  };
}

async function exchange(
  deps: Deps,
  code: string,
  verifier: string,
  redirectUri: string,
): Promise<LoginResult> {
  const answer = await codexTokenRequest(deps, "The Codex code exchange", {
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
  });
  const identity = codexIdentity({
    idToken: answer.idToken,
    accessToken: answer.tokens.accessToken,
  });
  if (!identity) {
    throw new LoginFlowError(502, "login_failed", "The Codex tokens carry no ChatGPT account id.");
  }
  return { tokens: answer.tokens, identity };
}

export async function completeCodexLogin(
  deps: Deps,
  input: LoginCompleteInput,
): Promise<LoginStep> {
  if (input.kind === "codex_pkce") {
    if (!input.code) {
      throw new LoginFlowError(400, "code_required", "Paste the callback URL or code as `code`.");
    }
    const pasted = parsePastedCode(input.code);
    checkState(pasted, input.secret["state"] ?? "");
    const login = await exchange(
      deps,
      pasted.code,
      input.secret["verifier"] ?? "",
      CODEX_REDIRECT_URI,
    );
    return { status: "complete", login };
  }
  const res = await callProvider(deps, deps.config.upstream.openaiAuth + DEVICE_TOKEN_PATH, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({
      device_auth_id: input.secret["deviceAuthId"],
      user_code: input.secret["userCode"],
    }),
  });
  const body = await readJsonObject(res);
  // 403 and 404 both mean "not approved yet"; the flow's own expiry ends the wait.
  if (res.status === 403 || res.status === 404) return { status: "pending" };
  const code = str(body?.["authorization_code"]);
  const verifier = str(body?.["code_verifier"]);
  if (!res.ok || !code || !verifier) {
    throw new LoginFlowError(
      502,
      "login_failed",
      `OpenAI did not complete the device login (HTTP ${res.status}).`,
    );
  }
  return {
    status: "complete",
    login: await exchange(deps, code, verifier, CODEX_DEVICE_REDIRECT_URI),
  };
}

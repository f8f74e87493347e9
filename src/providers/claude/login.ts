/** Claude login: PKCE with `code#state` paste-back (docs/providers/claude.md, "Login"). */
import type { Deps } from "../../deps.ts";
import { createPkce, randomId } from "../../crypto.ts";
import { LoginFlowError } from "../common/errors.ts";
import { checkState, parsePastedCode } from "../common/paste.ts";
import type {
  LoginCompleteInput,
  LoginStart,
  LoginStartInput,
  LoginStep,
} from "../account_types.ts";
import {
  AUTHORIZE_PATH,
  CLAUDE_CLIENT_ID,
  CLAUDE_REDIRECT_URI,
  CLAUDE_SCOPE,
  PKCE_FLOW_TTL_MS,
} from "./constants.ts";
import { claudeTokenRequest } from "./tokens.ts";

export async function startClaudeLogin(deps: Deps, input: LoginStartInput): Promise<LoginStart> {
  if (input.mode === "device") {
    throw new LoginFlowError(400, "unsupported_mode", "Claude logins use the browser flow only.");
  }
  const pkce = await createPkce(deps.random);
  const state = randomId(deps.random);
  const params = new URLSearchParams({
    code: "true",
    client_id: CLAUDE_CLIENT_ID,
    response_type: "code",
    redirect_uri: CLAUDE_REDIRECT_URI,
    scope: CLAUDE_SCOPE,
    code_challenge: pkce.challenge,
    code_challenge_method: "S256",
    state,
  });
  return {
    kind: "claude_pkce",
    method: "code",
    authorizationUrl: `${deps.config.upstream.claudeAi}${AUTHORIZE_PATH}?${
      params.toString().replaceAll("+", "%20")
    }`,
    instructions:
      "Open the link, sign in and authorise. Copy the code shown (code#state) and paste it here.",
    expiresInMs: PKCE_FLOW_TTL_MS,
    secret: { verifier: pkce.verifier, state },
  };
}

export async function completeClaudeLogin(
  deps: Deps,
  input: LoginCompleteInput,
): Promise<LoginStep> {
  if (!input.code) {
    throw new LoginFlowError(
      400,
      "code_required",
      "Paste the code#state shown by Claude as `code`.",
    );
  }
  const pasted = parsePastedCode(input.code);
  const state = input.secret["state"] ?? "";
  checkState(pasted, state);
  const answer = await claudeTokenRequest(deps, "The Claude code exchange", {
    code: pasted.code,
    state,
    grant_type: "authorization_code",
    redirect_uri: CLAUDE_REDIRECT_URI,
    code_verifier: input.secret["verifier"] ?? "",
  });
  if (!answer.identity) {
    throw new LoginFlowError(502, "login_failed", "The Claude token answer named no account.");
  }
  return { status: "complete", login: { tokens: answer.tokens, identity: answer.identity } };
}

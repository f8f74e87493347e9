/** The Codex token endpoint: code exchange and refresh, form-encoded (docs/providers/codex.md). */
import type { Deps } from "../../deps.ts";
import { ProviderAuthError } from "../common/errors.ts";
import { callProvider, str } from "../common/http.ts";
import { jwtExpiry } from "../common/expiry.ts";
import { readTokenAnswer, storedTokens } from "../common/tokens.ts";
import type { StoredTokens } from "../account_types.ts";
import { CODEX_CLIENT_ID, TOKEN_PATH } from "./constants.ts";

export interface CodexTokenAnswer {
  tokens: StoredTokens;
  idToken?: string;
}

export async function codexTokenRequest(
  deps: Deps,
  what: string,
  params: Record<string, string>,
  previousRefreshToken?: string,
): Promise<CodexTokenAnswer> {
  const res = await callProvider(deps, deps.config.upstream.openaiAuth + TOKEN_PATH, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams({ ...params, client_id: CODEX_CLIENT_ID }).toString(),
  });
  const answer = await readTokenAnswer(res, what, previousRefreshToken);
  const expiresAt = jwtExpiry(answer.accessToken) ??
    (answer.expiresIn !== undefined ? deps.now() + answer.expiresIn * 1000 : undefined);
  if (expiresAt === undefined) {
    throw new ProviderAuthError(false, "bad_answer", `${what} answered without an expiry.`);
  }
  const tokens = storedTokens(answer.accessToken, answer.refreshToken, expiresAt);
  const idToken = str(answer.body["id_token"]);
  return idToken ? { tokens, idToken } : { tokens };
}

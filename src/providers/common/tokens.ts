/**
 * The token-endpoint answer as Claude and Codex both give it (access_token,
 * refresh_token, expires_in; refresh tokens rotate), and the stored-token
 * shape built from it or from an imported file.
 */
import type { StoredTokens } from "../account_types.ts";
import { ProviderAuthError } from "./errors.ts";
import { num, readJsonObject, str, tokenEndpointFailure } from "./http.ts";

export interface TokenAnswer {
  /** The whole JSON answer, for provider-specific fields (id_token, account). */
  body: Record<string, unknown>;
  accessToken: string;
  /** The new refresh token, else the one the request was made with. */
  refreshToken: string | undefined;
  /** `expires_in`, in seconds, when given. */
  expiresIn: number | undefined;
}

/**
 * Reads a token-endpoint answer; a non-2xx, one without an access token, or
 * one with any `error` field (Claude answers 200 with an error body to an
 * unknown user agent) throws tokenEndpointFailure(`what`, ...).
 */
export async function readTokenAnswer(
  res: Response,
  what: string,
  previousRefreshToken?: string,
): Promise<TokenAnswer> {
  const body = await readJsonObject(res);
  const accessToken = str(body?.["access_token"]);
  if (!res.ok || !body || !accessToken || body["error"] !== undefined) {
    throw tokenEndpointFailure(what, res.status, body);
  }
  return {
    body,
    accessToken,
    refreshToken: str(body["refresh_token"]) ?? previousRefreshToken,
    expiresIn: num(body["expires_in"]),
  };
}

/** Stored tokens; an empty refresh token and an unknown expiry are left out. */
export function storedTokens(
  accessToken: string,
  refreshToken: string | undefined,
  expiresAt: number | undefined,
): StoredTokens {
  const tokens: StoredTokens = { accessToken };
  if (refreshToken) tokens.refreshToken = refreshToken;
  if (expiresAt !== undefined) tokens.expiresAt = expiresAt;
  return tokens;
}

/**
 * The body of an OAuth refresh_token grant for `tokens`; without a refresh
 * token the account needs a new login (a permanent ProviderAuthError).
 */
export function refreshGrant(tokens: StoredTokens): Record<string, string> {
  if (!tokens.refreshToken) {
    throw new ProviderAuthError(true, "no_refresh_token", "The account has no refresh token.");
  }
  return { grant_type: "refresh_token", refresh_token: tokens.refreshToken };
}

/** The Claude token endpoint (JSON bodies, claude-cli user agent; providers.md §3.1-3.2). */
import type { Deps } from "../../deps.ts";
import {
  callProvider,
  num,
  obj,
  readJsonObject,
  str,
  tokenEndpointFailure,
} from "../shared/http.ts";
import type { AccountIdentity, StoredTokens } from "../account_types.ts";
import { CLAUDE_CLI_USER_AGENT, CLAUDE_CLIENT_ID, TOKEN_PATH } from "./constants.ts";

export interface ClaudeTokenAnswer {
  tokens: StoredTokens;
  identity?: AccountIdentity;
}

export async function claudeTokenRequest(
  deps: Deps,
  what: string,
  body: Record<string, string>,
  previousRefreshToken?: string,
): Promise<ClaudeTokenAnswer> {
  const res = await callProvider(deps, deps.config.upstream.claudePlatform + TOKEN_PATH, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "User-Agent": CLAUDE_CLI_USER_AGENT,
    },
    body: JSON.stringify({ ...body, client_id: CLAUDE_CLIENT_ID }),
  });
  const answer = await readJsonObject(res);
  const accessToken = str(answer?.["access_token"]);
  // With a generic user agent the endpoint answers 200 with an error body: any `error` fails.
  if (!res.ok || !accessToken || answer?.["error"] !== undefined) {
    throw tokenEndpointFailure(what, res.status, answer);
  }
  const tokens: StoredTokens = {
    accessToken,
    expiresAt: deps.now() + (num(answer?.["expires_in"]) ?? 28800) * 1000,
  };
  const refreshToken = str(answer?.["refresh_token"]) ?? previousRefreshToken;
  if (refreshToken) tokens.refreshToken = refreshToken;
  const account = obj(answer?.["account"]);
  const org = obj(answer?.["organization"]);
  const uuid = str(account?.["uuid"]);
  if (!uuid) return { tokens };
  const email = str(account?.["email_address"]) ?? str(account?.["email"]);
  const identity: AccountIdentity = {
    externalId: uuid,
    label: email ?? uuid,
    meta: {
      organizationId: str(org?.["uuid"]),
      organizationName: str(org?.["name"]),
    },
  };
  if (email) identity.email = email;
  return { tokens, identity };
}

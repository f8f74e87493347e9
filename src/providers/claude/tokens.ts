/** The Claude token endpoint: JSON bodies, claude-cli user agent (docs/providers/claude.md). */
import type { Deps } from "../../deps.ts";
import { callProvider } from "../common/http.ts";
import { readTokenAnswer, storedTokens } from "../common/tokens.ts";
import type { AccountIdentity, StoredTokens } from "../account_types.ts";
import { CLAUDE_CLI_USER_AGENT, CLAUDE_CLIENT_ID, TOKEN_PATH } from "./constants.ts";
import { claudeIdentity } from "./identity.ts";

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
  const answer = await readTokenAnswer(res, what, previousRefreshToken);
  const tokens = storedTokens(
    answer.accessToken,
    answer.refreshToken,
    deps.now() + (answer.expiresIn ?? 28800) * 1000,
  );
  const identity = claudeIdentity(answer.body, "token");
  return identity ? { tokens, identity } : { tokens };
}

/** GitHub API calls of a Copilot account: user lookup and the `ghu_` token exchange. */
import type { Deps } from "../../deps.ts";
import { ProviderAuthError } from "../common/errors.ts";
import { callProvider, num, obj, readJsonObject, str } from "../common/http.ts";
import type { AccountIdentity, LoginResult, StoredTokens } from "../account_types.ts";
import { EXCHANGE_HEADERS, TOKEN_EXCHANGE_PATH, USER_AGENT, USER_PATH } from "./constants.ts";
import { copilotApiBase, githubApiOrigin } from "./hosts.ts";

/** `ghu_` editor tokens are exchanged for a Copilot API token; `gho_` tokens are used directly. */
export function isEditorToken(token: string): boolean {
  return token.startsWith("ghu_");
}

export interface GithubUser {
  id: number;
  login: string;
  email?: string;
}

function statusFailure(what: string, status: number): ProviderAuthError {
  if (status === 401) {
    return new ProviderAuthError(true, "github_401", `GitHub refused the token (${what}, 401).`);
  }
  if (status === 403 || status === 404) {
    return new ProviderAuthError(
      true,
      `github_${status}`,
      `GitHub refused ${what} for this token (HTTP ${status}).`,
    );
  }
  return new ProviderAuthError(
    false,
    `github_${status}`,
    `GitHub ${what} failed (HTTP ${status}).`,
  );
}

export async function fetchGithubUser(
  deps: Deps,
  domain: string | undefined,
  token: string,
): Promise<GithubUser> {
  const res = await callProvider(deps, githubApiOrigin(deps, domain) + USER_PATH, {
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: "application/vnd.github+json",
      "User-Agent": USER_AGENT,
    },
  });
  const body = await readJsonObject(res);
  if (!res.ok) throw statusFailure("the user lookup", res.status);
  const id = num(body?.["id"]);
  const login = str(body?.["login"]);
  if (id === undefined || !login) {
    throw new ProviderAuthError(false, "github_bad_answer", "GitHub /user answered without an id.");
  }
  const email = str(body?.["email"]);
  return email ? { id, login, email } : { id, login };
}

function githubIdentity(user: GithubUser, domain: string | undefined): AccountIdentity {
  // Ids are unique per GitHub instance only, so an Enterprise identity carries its domain.
  const identity: AccountIdentity = {
    externalId: domain ? `${domain}:${user.id}` : String(user.id),
    label: user.login,
    meta: { login: user.login, ...(domain ? { enterpriseDomain: domain } : {}) },
  };
  if (user.email) identity.email = user.email;
  return identity;
}

/**
 * Exchanges a `ghu_` editor token for a short-lived Copilot API token
 * (docs/providers/copilot.md#token-exchange-for-ghu-tokens).
 */
export async function exchangeEditorToken(
  deps: Deps,
  domain: string | undefined,
  ghu: string,
): Promise<
  Required<Pick<StoredTokens, "copilotToken" | "copilotTokenExpiresAt" | "copilotApiBase">>
> {
  const res = await callProvider(deps, githubApiOrigin(deps, domain) + TOKEN_EXCHANGE_PATH, {
    headers: { Authorization: `Bearer ${ghu}`, Accept: "application/json", ...EXCHANGE_HEADERS },
  });
  const body = await readJsonObject(res);
  if (!res.ok) throw statusFailure("the Copilot token exchange", res.status);
  const token = str(body?.["token"]);
  const expiresAt = num(body?.["expires_at"]);
  if (!token || expiresAt === undefined) {
    throw new ProviderAuthError(
      false,
      "exchange_bad_answer",
      "The Copilot token answer was incomplete.",
    );
  }
  const apiBase = str(obj(body?.["endpoints"])?.["api"]) ?? copilotApiBase(deps, domain);
  return {
    copilotToken: token,
    copilotTokenExpiresAt: expiresAt * 1000,
    copilotApiBase: apiBase.replace(/\/+$/, ""),
  };
}

/**
 * The account of a GitHub token (device-flow login or import): who it is at
 * GitHub and, for a `ghu_` token, the exchanged Copilot token.
 */
export async function githubLogin(
  deps: Deps,
  domain: string | undefined,
  token: string,
): Promise<LoginResult> {
  const user = await fetchGithubUser(deps, domain, token);
  const tokens: StoredTokens = isEditorToken(token)
    ? { accessToken: token, ...await exchangeEditorToken(deps, domain, token) }
    : { accessToken: token };
  return { tokens, identity: githubIdentity(user, domain) };
}

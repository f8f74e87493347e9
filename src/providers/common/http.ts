/**
 * Calls to the providers' auth and account endpoints. Network failures and
 * timeouts become transient ProviderAuthErrors; the message names the
 * endpoint's origin, never a token.
 */
import type { Deps } from "../../deps.ts";
import { ProviderAuthError } from "./errors.ts";
import { OutboundProxyError } from "../../outbound_proxy.ts";
import { isObject, parseJsonObject, toNumber } from "../../json.ts";

export const PROVIDER_TIMEOUT_MS = 8_000;

export async function callProvider(
  deps: Pick<Deps, "fetch">,
  url: string,
  init: RequestInit,
  timeoutMs = PROVIDER_TIMEOUT_MS,
): Promise<Response> {
  try {
    return await deps.fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    // The account's outbound proxy failed (src/accounts/egress.ts): transient, and said so.
    if (error instanceof OutboundProxyError) {
      throw new ProviderAuthError(false, "outbound_proxy_failed", error.message);
    }
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    throw new ProviderAuthError(
      false,
      timedOut ? "timeout" : "network_error",
      `${new URL(url).origin} ${timedOut ? "did not answer in time" : "could not be reached"}.`,
    );
  }
}

/** The JSON object of an answer, or undefined when it is not one (the body is consumed). */
export async function readJsonObject(res: Response): Promise<Record<string, unknown> | undefined> {
  return parseJsonObject(await res.text().catch(() => ""));
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A finite number, or a numeric string ("5", as some of these APIs send it), as a number. */
export const num = toNumber;

export function obj(value: unknown): Record<string, unknown> | undefined {
  return isObject(value) ? value : undefined;
}

/**
 * A reused refresh token means a new login. Refresh tokens rotate and are
 * single-use: once one has been presented, presenting it again (or an
 * expired, invalidated or otherwise refused one) is refused for good, and
 * only a new login gives the account a working token again. So these codes
 * fail a refresh permanently whatever the HTTP status, and the account is
 * marked needs_login instead of being retried. (The same fact is why only one
 * refresh runs per account across instances and the new pair is stored
 * before it is used.)
 */
const NEW_LOGIN_CODES: ReadonlySet<string> = new Set([
  "invalid_grant",
  "refresh_token_reused",
  "refresh_token_expired",
  "refresh_token_invalidated",
]);

/** True when an OAuth error code says the refresh token is spent: the account needs a new login. */
export function meansNewLogin(code: string): boolean {
  return NEW_LOGIN_CODES.has(code);
}

/** The provider refuses this client or request shape: asking again cannot succeed either. */
const REFUSED_CLIENT_CODES: ReadonlySet<string> = new Set([
  "invalid_client",
  "unauthorized_client",
  "invalid_request",
  "unsupported_grant_type",
]);

/** What an upstream error code may look like; anything else is not echoed (it is stored and shown). */
const ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The error code of an OAuth error body: `{error: "x"}` or `{error: {code|type: "x"}}`. */
function oauthErrorCode(body: Record<string, unknown> | undefined): string | undefined {
  const error = body?.["error"];
  const inner = obj(error);
  const code = typeof error === "string" ? error : str(inner?.["code"]) ?? str(inner?.["type"]);
  return code !== undefined && ERROR_CODE.test(code) ? code : undefined;
}

/**
 * Classifies a failed token-endpoint answer. 5xx, 429 and unknown error
 * bodies on 2xx are transient; 4xx answers are permanent (a refresh token
 * the provider refuses will not start working by asking again).
 */
export function tokenEndpointFailure(
  what: string,
  status: number,
  body: Record<string, unknown> | undefined,
): ProviderAuthError {
  const code = oauthErrorCode(body) ?? `http_${status}`;
  const permanent = meansNewLogin(code) || REFUSED_CLIENT_CODES.has(code) ||
    (status >= 400 && status < 500 && status !== 408 && status !== 429);
  return new ProviderAuthError(
    permanent,
    code,
    `${what} was refused (${code}, HTTP ${status}).`,
  );
}

/**
 * Calls to the providers' auth and account endpoints. Network failures and
 * timeouts become transient ProviderAuthErrors; the message names the
 * endpoint's origin, never a token.
 */
import type { Deps } from "../../deps.ts";
import { ProviderAuthError } from "./errors.ts";
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

const PERMANENT_CODES = new Set([
  "invalid_grant",
  "refresh_token_reused",
  "refresh_token_expired",
  "refresh_token_invalidated",
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
  const permanent = PERMANENT_CODES.has(code) ||
    (status >= 400 && status < 500 && status !== 408 && status !== 429);
  return new ProviderAuthError(
    permanent,
    code,
    `${what} was refused (${code}, HTTP ${status}).`,
  );
}

/**
 * Typed errors. Everything a caller may see is a KleisError; `app.onError`
 * maps it to HTTP in the shape of the route's API (see errorResponse).
 * Anything else becomes a 500 with a generic message, and its text goes to
 * the log only.
 */

import type { Logger } from "./log.ts";

/** The error vocabularies of the APIs Kleis speaks. */
export type ErrorStyle = "kleis" | "openai" | "anthropic";

export interface KleisErrorOptions {
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  /** Type name in the OpenAI/Anthropic shapes; derived from status if absent. */
  type?: string;
  /** Internal detail for the log; never sent to a caller. */
  cause?: unknown;
}

export class KleisError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  readonly type: string | undefined;

  constructor(status: number, code: string, message: string, options: KleisErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KleisError";
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.type = options.type;
  }
}

/**
 * What a caller sees of any thrown value: a KleisError as it is; anything
 * else becomes a 500 with a generic message, its detail (and stack) going
 * to the log only. The one place an unexpected error is mapped (app.onError
 * and the proxy service both use it).
 */
export function toKleisError(
  error: unknown,
  log: Logger,
  fields: Record<string, unknown>,
): KleisError {
  if (error instanceof KleisError) return error;
  log.error("Unhandled error.", {
    ...fields,
    error,
    stack: error instanceof Error ? error.stack : undefined,
  });
  return new KleisError(500, "internal_error", "Kleis failed to handle this request.");
}

export const badRequest = (code: string, message: string) => new KleisError(400, code, message);
export const notFound = (what: string) =>
  new KleisError(404, "not_found", `${what} was not found.`);
export const conflict = (code: string, message: string) => new KleisError(409, code, message);

/** 401 for API keys: one message for missing, unknown, revoked and expired keys. */
export const invalidApiKey = () =>
  new KleisError(401, "invalid_api_key", "The API key is missing or not valid.", {
    type: "authentication_error",
  });

export const tooManyRequests = (code: string, message: string, retryAfterSeconds: number) =>
  new KleisError(429, code, message, {
    headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    type: "rate_limit_error",
  });

const OPENAI_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  409: "invalid_request_error",
  410: "invalid_request_error",
  413: "invalid_request_error",
  429: "rate_limit_error",
  502: "api_error",
  503: "api_error",
};

const ANTHROPIC_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  502: "api_error",
  503: "overloaded_error",
};

/** The JSON body of an error in the given style (docs/api.md#error-shapes). */
export function errorBody(style: ErrorStyle, error: KleisError): unknown {
  if (style === "openai") {
    const type = error.type ?? OPENAI_TYPES[error.status] ?? "api_error";
    return { error: { message: error.message, type, code: error.code } };
  }
  if (style === "anthropic") {
    const type = error.type === "authentication_error" || error.type === "rate_limit_error"
      ? error.type
      : ANTHROPIC_TYPES[error.status] ?? "api_error";
    return { type: "error", error: { type, message: error.message } };
  }
  return { error: { code: error.code, message: error.message } };
}

/** Which error style a request path answers in. */
export function errorStyleForPath(path: string): ErrorStyle {
  if (path.startsWith("/anthropic/") || path.startsWith("/copilot/v1/messages")) return "anthropic";
  if (
    path.startsWith("/openai/") || path.startsWith("/copilot/") || path.startsWith("/v1/")
  ) return "openai";
  return "kleis";
}

export function errorResponse(style: ErrorStyle, error: KleisError): Response {
  const headers = new Headers(error.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(errorBody(style, error)), { status: error.status, headers });
}

/**
 * Backend error bodies in the shape of the route the client called.
 *
 * A client SDK reads an error's message from its own API's shape only: the
 * `openai` package from `{"error": {"message"}}`, `@anthropic-ai/sdk` from
 * `{"type": "error", "error": {"message"}}`. Backends do not always answer
 * so (the Codex backend answers `{"detail": "..."}`, gateways answer plain
 * text or HTML), and the client then shows "400 status code (no body)".
 * nativeErrorText() rewrites such a body into the route's shape, keeping
 * the backend's message; a body already in the route's shape is left as it
 * is, byte for byte. The status is the caller's to keep.
 */
import { errorBody, type ErrorStyle, KleisError } from "../errors.ts";
import { firstString, isObject, type JsonObject, parseJsonObject } from "../json.ts";

/** Longest backend message passed on; longer ones are cut (an HTML page is not a message). */
export const MAX_MESSAGE_LENGTH = 2_000;

function isOpenAiError(body: JsonObject): boolean {
  const error = body["error"];
  return isObject(error) && typeof error["message"] === "string";
}

function isAnthropicError(body: JsonObject): boolean {
  const error = body["error"];
  return body["type"] === "error" && isObject(error) && typeof error["message"] === "string" &&
    typeof error["type"] === "string";
}

/** FastAPI validation details: [{"loc": [...], "msg": "..."}]. */
function detailList(detail: unknown): string | undefined {
  if (!Array.isArray(detail)) return undefined;
  const parts = detail.map((d) =>
    isObject(d) ? firstString(d["msg"], d["message"]) : firstString(d)
  )
    .filter((m): m is string => m !== undefined);
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/** The message and code a backend put in any error shape Kleis has met. */
function readError(body: JsonObject): { message?: string; code?: string } {
  const error = body["error"];
  const nested = isObject(error) ? error : undefined;
  const detail = body["detail"];
  const message = firstString(
    nested?.["message"],
    typeof error === "string" ? body["message"] ?? body["error_description"] ?? error : undefined,
    detail,
    isObject(detail) ? firstString(detail["message"], detail["msg"]) : undefined,
    detailList(detail),
    body["message"],
    body["error_description"],
    Array.isArray(body["errors"]) && isObject(body["errors"][0])
      ? body["errors"][0]["message"]
      : undefined,
  );
  const code = firstString(
    nested?.["code"],
    nested?.["type"],
    typeof error === "string" && message !== error ? error : undefined,
    body["code"],
    isObject(detail) ? detail["code"] : undefined,
  );
  const out: { message?: string; code?: string } = {};
  if (message !== undefined) out.message = message;
  if (code !== undefined) out.code = code;
  return out;
}

function cut(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH
    ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…`
    : message;
}

/**
 * The error body to give a client of a route answering in `style`, or
 * undefined when `text` is already in that shape. `backend` names the
 * backend in the message written when its answer carried none.
 */
export function nativeErrorText(
  style: ErrorStyle,
  status: number,
  text: string,
  backend: string,
): string | undefined {
  const body = parseJsonObject(text);
  if (body && style === "openai" && isOpenAiError(body)) return undefined;
  if (body && style === "anthropic" && isAnthropicError(body)) return undefined;
  if (style === "kleis") return undefined;
  const found = body ? readError(body) : {};
  let message = found.message;
  // A short plain-text answer is the message; markup (a gateway's HTML page) is not.
  const plain = text.trim();
  if (message === undefined && !body && plain !== "" && !plain.startsWith("<")) message = plain;
  message ??= `The ${backend} backend answered ${status} without a message.`;
  const error = new KleisError(status, found.code ?? "backend_error", cut(message));
  return JSON.stringify(errorBody(style, error));
}

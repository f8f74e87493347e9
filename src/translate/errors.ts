/**
 * A backend's error answer rewritten in the client's API shape: the status
 * and headers (Retry-After, rate-limit headers) stay, the body becomes
 * `{"error": {...}}` for OpenAI-shaped clients or `{"type": "error", ...}`
 * for Anthropic-shaped ones, with the backend's message.
 */
import { parseJsonObject } from "../providers/proxy_util.ts";
import { anthropicType } from "./messages/answer_write.ts";
import { obj, str } from "./util.ts";

export type ErrorShape = "openai" | "anthropic";

const BY_STATUS: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  529: "overloaded_error",
};

/** Message, type and code of an error body in any backend's shape. */
export function readBackendError(status: number, text: string) {
  const body = parseJsonObject(text);
  const error = obj(body?.["error"]);
  const message = str(error?.["message"]) ?? str(body?.["detail"]) ?? str(body?.["message"]) ??
    (text.trim() === "" ? `The backend answered ${status}.` : text.trim().slice(0, 2000));
  const statusType = BY_STATUS[status] ?? "api_error";
  // Codex's usage_limit_reached and similar are rate limits to a client.
  const type = status === 429 ? "rate_limit_error" : str(error?.["type"]) ?? statusType;
  const code = str(error?.["code"]) ?? str(error?.["type"]) ?? null;
  return { message, type, code };
}

export function translateErrorBody(shape: ErrorShape, status: number, text: string): string {
  const { message, type, code } = readBackendError(status, text);
  if (shape === "anthropic") {
    const known = anthropicType(type);
    return JSON.stringify({
      type: "error",
      error: { type: known === "api_error" ? BY_STATUS[status] ?? "api_error" : known, message },
    });
  }
  return JSON.stringify({ error: { message, type, param: null, code } });
}

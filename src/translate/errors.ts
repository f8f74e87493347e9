/**
 * A backend's error answer rewritten in the client's API shape: the status
 * and headers (Retry-After, rate-limit headers) stay, the body becomes
 * `{"error": {...}}` for OpenAI-shaped clients or `{"type": "error", ...}`
 * for Anthropic-shaped ones, with the backend's message.
 */
import { ANTHROPIC_TYPES, OPENAI_TYPES } from "../errors.ts";
import { parseJsonObject } from "../json.ts";
import { anthropicType } from "./messages/answer_write.ts";
import { obj, str } from "./util.ts";

export type ErrorShape = "openai" | "anthropic";

/** Message, type and code of an error body in any backend's shape. */
export function readBackendError(status: number, text: string) {
  const body = parseJsonObject(text);
  const error = obj(body?.["error"]);
  const message = str(error?.["message"]) ?? str(body?.["detail"]) ?? str(body?.["message"]) ??
    (text.trim() === "" ? `The backend answered ${status}.` : text.trim().slice(0, 2000));
  // Codex's usage_limit_reached and similar are rate limits to a client.
  const type = status === 429
    ? "rate_limit_error"
    : str(error?.["type"]) ?? OPENAI_TYPES[status] ?? "api_error";
  const code = str(error?.["code"]) ?? str(error?.["type"]) ?? null;
  return { message, type, code };
}

export function translateErrorBody(shape: ErrorShape, status: number, text: string): string {
  const { message, type, code } = readBackendError(status, text);
  if (shape === "anthropic") {
    const known = anthropicType(type);
    return JSON.stringify({
      type: "error",
      error: {
        type: known === "api_error" ? ANTHROPIC_TYPES[status] ?? overloaded(status) : known,
        message,
      },
    });
  }
  return JSON.stringify({ error: { message, type, param: null, code } });
}

/** Anthropic's own overload status (529) has no entry in the shared tables. */
const overloaded = (status: number) => status === 529 ? "overloaded_error" : "api_error";

/**
 * An error written into a stream that has already started (the status line
 * is gone), in the shape the client's SDK reads for that API.
 */
import type { AnswerShape } from "../providers/proxy_types.ts";
import { encodeEvent } from "../sse.ts";

export function streamErrorEvent(shape: AnswerShape, code: string, message: string): string {
  if (shape === "messages" || shape === "count_tokens") {
    return encodeEvent(
      JSON.stringify({ type: "error", error: { type: "api_error", message } }),
      "error",
    );
  }
  if (shape === "responses") {
    return encodeEvent(
      JSON.stringify({ type: "error", code, message, param: null }),
      "error",
    );
  }
  return encodeEvent(JSON.stringify({ error: { message, type: "api_error", code } }));
}

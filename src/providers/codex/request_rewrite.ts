/**
 * The body rules of the Codex backend (docs/providers/codex.md#body-rules): store:false,
 * stream:true, non-empty instructions, dropped parameters, the encrypted
 * reasoning include, and a prompt cache key that is private to one API key
 * and one account.
 */
import { sha256Hex } from "../../crypto.ts";
import { badRequest } from "../../errors.ts";
import { firstString, isObject, type JsonObject } from "../../json.ts";
import {
  CODEX_DEFAULT_INSTRUCTIONS,
  CODEX_DROPPED_PARAMS,
  CODEX_REQUIRED_INCLUDE,
} from "./constants.ts";

/** The client's session: body `prompt_cache_key`, else the `session_id` / `session-id` header. */
export function codexSession(body: JsonObject, headers: Headers): string | undefined {
  return firstString(
    body["prompt_cache_key"],
    headers.get("session_id"),
    headers.get("session-id"),
    headers.get("x-session-affinity"),
  );
}

/** SHA-256 of keyId:accountId:session, so two tenants or two accounts never share a cache key. */
export async function derivedPromptCacheKey(
  keyId: string,
  accountId: string,
  session: string,
): Promise<string> {
  return await sha256Hex(`${keyId}:${accountId}:${session}`);
}

/** Text of a message item's content (a string or input_text/text parts). */
function contentText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  const texts = content
    .filter((p) => isObject(p) && typeof p["text"] === "string")
    .map((p) => (p as JsonObject)["text"] as string);
  return texts.length > 0 ? texts.join("\n") : undefined;
}

/**
 * The account-independent part of the rewrite, done once per request. The
 * input is normalised to a list (the backend refuses a plain string).
 */
export function rewriteCodexBody(body: JsonObject, model: string): JsonObject {
  const out: JsonObject = { ...body, model, store: false, stream: true };
  for (const param of CODEX_DROPPED_PARAMS) delete out[param];

  let input = out["input"];
  if (typeof input === "string") {
    input = [{ type: "message", role: "user", content: [{ type: "input_text", text: input }] }];
  } else if (input === undefined) {
    input = [];
  } else if (!Array.isArray(input)) {
    throw badRequest("invalid_request", `"input" must be a string or an array.`);
  }
  const items = input as unknown[];

  let instructions = firstString(out["instructions"]);
  if (instructions === undefined) {
    const first = items[0];
    const role = isObject(first) ? first["role"] : undefined;
    const text = isObject(first) && (role === "system" || role === "developer")
      ? contentText(first["content"])?.trim()
      : undefined;
    if (text) {
      instructions = text;
      input = items.slice(1);
    }
  }
  out["instructions"] = instructions ?? CODEX_DEFAULT_INSTRUCTIONS;
  out["input"] = input;

  const include = Array.isArray(out["include"]) ? out["include"] as unknown[] : [];
  out["include"] = include.includes(CODEX_REQUIRED_INCLUDE)
    ? include
    : [...include, CODEX_REQUIRED_INCLUDE];
  return out;
}

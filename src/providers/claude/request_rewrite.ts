/**
 * System prompt rules of the Claude API for subscription tokens
 * (docs/providers/claude.md#body-rules): Claude Code's identity block first, and the known
 * third-party markers rewritten so the server classifier does not answer a
 * false "out of extra usage".
 */
import { badRequest } from "../../errors.ts";
import { isObject, type JsonObject } from "../../json.ts";
import { CLAUDE_IDENTITY_PROMPT, type PromptRewrite } from "./constants.ts";

export function sanitizeText(text: string, rewrites: readonly PromptRewrite[]): string {
  let out = text;
  for (const { find, replace } of rewrites) {
    if (out.includes(find)) out = out.replaceAll(find, replace);
  }
  return out;
}

/** The `system` to send: identity block first (once), client text sanitised. */
export function rewriteSystem(system: unknown, rewrites: readonly PromptRewrite[]): unknown[] {
  const identity = { type: "text", text: CLAUDE_IDENTITY_PROMPT };
  if (system === undefined || system === null || system === "") return [identity];
  if (typeof system === "string") {
    if (system === CLAUDE_IDENTITY_PROMPT) return [identity];
    return [identity, { type: "text", text: sanitizeText(system, rewrites) }];
  }
  if (!Array.isArray(system)) {
    throw badRequest("invalid_request", `"system" must be a string or an array of text blocks.`);
  }
  const blocks = system.map((block) =>
    isObject(block) && block["type"] === "text" && typeof block["text"] === "string"
      ? { ...block, text: sanitizeText(block["text"], rewrites) }
      : block
  );
  const first = blocks[0];
  if (isObject(first) && first["text"] === CLAUDE_IDENTITY_PROMPT) return blocks;
  return [identity, ...blocks];
}

export function rewriteClaudeBody(
  body: JsonObject,
  model: string,
  rewrites: readonly PromptRewrite[],
): JsonObject {
  return { ...body, model, system: rewriteSystem(body["system"], rewrites) };
}

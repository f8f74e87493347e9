/**
 * `/messages/count_tokens` for models whose backend has no such endpoint
 * (Codex, Copilot): an estimate from the request itself, about four
 * characters a token and a flat 1,000 tokens an image. Claude models are
 * counted by Anthropic.
 */
import type { NeutralRequest } from "./neutral.ts";

const IMAGE_TOKENS = 1000;

export function estimateInputTokens(req: NeutralRequest): number {
  let chars = req.system.join("\n").length;
  let images = 0;
  for (const m of req.messages) {
    for (const part of m.content) {
      if (part.type === "text") chars += part.text.length;
      else images++;
    }
    if (m.role === "assistant") {
      for (const call of m.toolCalls) chars += call.name.length + call.arguments.length;
    }
  }
  for (const tool of req.tools) {
    chars += tool.name.length + (tool.description?.length ?? 0) +
      JSON.stringify(tool.parameters).length;
  }
  return Math.max(1, Math.ceil(chars / 4)) + images * IMAGE_TOKENS;
}

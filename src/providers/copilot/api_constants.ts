/**
 * Constants of the GitHub Copilot API as the proxy uses it
 * (docs/providers/copilot.md#upstream-api). A change upstream is a change in this file.
 */

/** Kleis endpoint (below /copilot/v1) → upstream path (below the API base, which has no /v1). */
export const COPILOT_UPSTREAM_PATHS: Readonly<Record<string, string>> = {
  "/chat/completions": "/chat/completions",
  "/responses": "/responses",
  "/messages": "/v1/messages",
};

export const COPILOT_MODEL_PREFIXES = ["github-copilot/", "copilot/"] as const;
export const COPILOT_OPENAI_INTENT = "conversation-edits";
export const COPILOT_DEFAULT_ANTHROPIC_VERSION = "2023-06-01";
/** Merged in front of the client's betas on /v1/messages. */
export const COPILOT_MESSAGES_BETAS = ["interleaved-thinking-2025-05-14"] as const;

/** Models that refuse `temperature` (GPT-5.x). */
export const COPILOT_NO_TEMPERATURE = /^gpt-5/;

/** A 429 without a readable wait cools the model this long. */
export const COPILOT_DEFAULT_COOLDOWN_MS = 60_000;

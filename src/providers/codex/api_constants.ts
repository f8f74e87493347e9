/**
 * Constants of the Codex backend (ChatGPT subscription) as the proxy uses it
 * (docs/providers/codex.md#upstream-api). A change upstream is a change in this file.
 */

export const CODEX_RESPONSES_PATH = "/backend-api/codex/responses";
export const CODEX_ORIGINATOR = "opencode";
export const CODEX_USER_AGENT = "opencode";
export const CODEX_MODEL_PREFIXES = ["openai/", "codex/"] as const;

/** Parameters the backend refuses; removed before forwarding. */
export const CODEX_DROPPED_PARAMS = [
  "max_output_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
] as const;

/** Needed for multi-turn reasoning with store:false. */
export const CODEX_REQUIRED_INCLUDE = "reasoning.encrypted_content";

/** Used when the client sent neither `instructions` nor a leading system/developer item. */
export const CODEX_DEFAULT_INSTRUCTIONS =
  "You are a helpful coding assistant reached through Kleis. Follow the user's instructions " +
  "precisely and answer concisely.";

/** A 429 without any reset hint cools the account this long. */
export const CODEX_DEFAULT_COOLDOWN_MS = 60_000;

/** GitHub Copilot account-side constants (docs/providers/copilot.md). */
export const COPILOT_CLIENT_ID = "Ov23li8tweQw6odWQebz";
export const COPILOT_SCOPE = "read:user";
export const DEVICE_CODE_PATH = "/login/device/code";
export const ACCESS_TOKEN_PATH = "/login/oauth/access_token";
export const DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code";
export const USER_PATH = "/user";
export const TOKEN_EXCHANGE_PATH = "/copilot_internal/v2/token";
export const QUOTA_PATH = "/copilot_internal/user";
export const QUOTA_API_VERSION = "2025-04-01";
/** Headers the token exchange wants (it answers 400 without the editor ones). */
export const EXCHANGE_HEADERS = {
  "Editor-Version": "vscode/1.107.0",
  "Editor-Plugin-Version": "copilot-chat/0.35.0",
  "Copilot-Integration-Id": "vscode-chat",
  "User-Agent": "GitHubCopilotChat/0.35.0",
} as const;
export const USER_AGENT = "Kleis";
/** Margin (ms) added to the device-flow interval between two polls. */
export const POLL_MARGIN_MS = 1_000;
/** Re-exchange a Copilot token this long before it expires. */
export const COPILOT_TOKEN_MARGIN_MS = 5 * 60_000;

/*
 * Constants of the GitHub Copilot API as the proxy uses it
 * (docs/providers/copilot.md#upstream-api). A change upstream is a change in this file.
 */
/** Kleis endpoint (below /copilot/v1) → upstream path (below the API base, which has no /v1). */
export const COPILOT_UPSTREAM_PATHS: Readonly<Record<string, string>> = {
  "/chat/completions": "/chat/completions",
  "/responses": "/responses",
  "/messages": "/v1/messages",
  "/embeddings": "/embeddings",
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

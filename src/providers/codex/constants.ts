/** OpenAI Codex (ChatGPT subscription) account-side constants (docs/providers/codex.md). */
export const CODEX_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
export const CODEX_SCOPE = "openid profile email offline_access";
export const CODEX_REDIRECT_URI = "http://localhost:1455/auth/callback";
export const CODEX_DEVICE_REDIRECT_URI = "https://auth.openai.com/deviceauth/callback";
export const AUTHORIZE_PATH = "/oauth/authorize";
export const TOKEN_PATH = "/oauth/token";
export const DEVICE_USERCODE_PATH = "/api/accounts/deviceauth/usercode";
export const DEVICE_TOKEN_PATH = "/api/accounts/deviceauth/token";
export const DEVICE_VERIFY_PATH = "/codex/device";
/** The `originator` Codex login and the Codex backend are told (OpenCode's). */
export const CODEX_ORIGINATOR = "opencode";
export const USAGE_PATH = "/backend-api/wham/usage";
export const USAGE_USER_AGENT = "codex-cli";
export const AUTH_CLAIM = "https://api.openai.com/auth";
export const PROFILE_CLAIM = "https://api.openai.com/profile";
/** Default device-flow poll interval (s) when the answer has none. */
export const DEFAULT_DEVICE_INTERVAL_S = 5;
/** OpenAI device codes live about 15 minutes. */
export const DEVICE_FLOW_TTL_MS = 15 * 60_000;
export const PKCE_FLOW_TTL_MS = 10 * 60_000;

/*
 * Constants of the Codex backend (ChatGPT subscription) as the proxy uses it
 * (docs/providers/codex.md#upstream-api). A change upstream is a change in this file.
 */
export const CODEX_RESPONSES_PATH = "/backend-api/codex/responses";
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

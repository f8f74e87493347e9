/** Anthropic Claude (Pro/Max) account-side constants (docs/providers/claude.md). */
export const CLAUDE_CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e";
export const CLAUDE_REDIRECT_URI = "https://platform.claude.com/oauth/code/callback";
export const CLAUDE_SCOPE =
  "org:create_api_key user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload";
export const AUTHORIZE_PATH = "/oauth/authorize";
export const TOKEN_PATH = "/v1/oauth/token";
export const PROFILE_PATH = "/api/oauth/profile";
export const USAGE_PATH = "/api/oauth/usage";
export const OAUTH_BETA = "oauth-2025-04-20";
export const CLAUDE_CLI_USER_AGENT = "claude-cli/2.1.87 (external, cli)";
export const PKCE_FLOW_TTL_MS = 10 * 60_000;

/*
 * Constants of the Claude API as a Claude Code subscription token uses it
 * (docs/providers/claude.md#upstream-api). A change upstream is a change in this file.
 */
export const CLAUDE_MESSAGES_PATH = "/v1/messages";
export const CLAUDE_COUNT_TOKENS_PATH = "/v1/messages/count_tokens";
export const CLAUDE_MODEL_PREFIXES = ["anthropic/", "claude/"] as const;

export const CLAUDE_DEFAULT_VERSION = "2023-06-01";
/** Sent first, in this order; the client's other betas follow, deduplicated. */
export const CLAUDE_REQUIRED_BETAS = [
  "claude-code-20250219",
  OAUTH_BETA,
  "interleaved-thinking-2025-05-14",
  "fine-grained-tool-streaming-2025-05-14",
] as const;

/** The first system block of every request. */
export const CLAUDE_IDENTITY_PROMPT = "You are Claude Code, Anthropic's official CLI for Claude.";

/** Every tool name Anthropic sees must match this (Claude Code's own tool names). */
export const CLAUDE_TOOL_NAME_PREFIX = "mcp_";

/** A 429 without any reset hint cools the account this long. */
export const CLAUDE_DEFAULT_COOLDOWN_MS = 60_000;

/** One rewrite of system text: every occurrence of `find` becomes `replace`. */
export interface PromptRewrite {
  find: string;
  replace: string;
}

/**
 * Markers of third-party agents in system text that Anthropic's classifier
 * answers with a false "You're out of extra usage" (400). Extend this list
 * when a new marker is found (or pass `extraRewrites` to createClaudeProxy).
 * Longer markers first: a line with its newline goes before the bare line.
 */
export const CLAUDE_PROMPT_REWRITES: readonly PromptRewrite[] = [
  { find: "https://github.com/anomalyco/opencode\n", replace: "" },
  { find: "https://github.com/anomalyco/opencode", replace: "" },
  { find: "https://github.com/sst/opencode\n", replace: "" },
  { find: "https://github.com/sst/opencode", replace: "" },
  {
    find: "Here is some useful information about the environment you are running in:",
    replace: "Here is useful information about the environment you are running in:",
  },
];

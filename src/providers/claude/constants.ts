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

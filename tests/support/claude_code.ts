/**
 * The real Claude Code CLI (npm `@anthropic-ai/claude-code`, installed into
 * .tools/claude-code by tests/support/setup.sh), pointed at Kleis the way
 * the README tells users to, with everything it would send elsewhere off.
 */
import { cliVersion } from "./agent_cli.ts";

/** Also pinned in tests/support/setup.sh. */
export const CLAUDE_CODE_VERSION = "2.1.332";

const ROOT = new URL("../../", import.meta.url).pathname;
export const CLAUDE_BIN = `${ROOT}.tools/claude-code/node_modules/.bin/claude`;

export async function claudeCodeInstalled(): Promise<boolean> {
  return (await cliVersion(CLAUDE_BIN)).startsWith(`${CLAUDE_CODE_VERSION} `);
}

/**
 * The variables of the README's set-up: Kleis as the API, the switches for
 * telemetry, error reports, auto-update and the plugin marketplace, and the
 * model list read from Kleis.
 */
export function claudeCodeEnv(kleisUrl: string): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: `${kleisUrl}/anthropic`,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: "1",
    CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: "1",
  };
}

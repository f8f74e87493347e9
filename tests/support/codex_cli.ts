/**
 * The real Codex CLI (npm `@openai/codex`, installed into .tools/codex by
 * tests/support/setup.sh), pointed at Kleis through a custom model provider
 * in its config.toml, as the README shows.
 */
import { cliVersion } from "./agent_cli.ts";

/** Also pinned in tests/support/setup.sh. */
export const CODEX_VERSION = "0.171.0";

const ROOT = new URL("../../", import.meta.url).pathname;
export const CODEX_BIN = `${ROOT}.tools/codex/node_modules/.bin/codex`;

export async function codexInstalled(): Promise<boolean> {
  return (await cliVersion(CODEX_BIN)) === `codex-cli ${CODEX_VERSION}`;
}

/**
 * The README's config.toml: Kleis as a model provider speaking the
 * Responses API, the key read from KLEIS_API_KEY, and the update check,
 * analytics and plugin sync (which would reach chatgpt.com, ab.chatgpt.com
 * and github.com) off.
 */
export function codexConfig(kleisUrl: string, model = "gpt-5.5"): string {
  return `model = "${model}"
model_provider = "kleis"
check_for_update_on_startup = false

[model_providers.kleis]
name = "Kleis"
base_url = "${kleisUrl}/openai/v1"
wire_api = "responses"
env_key = "KLEIS_API_KEY"

[analytics]
enabled = false

[features]
plugins = false
`;
}

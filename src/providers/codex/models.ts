/**
 * Which OpenAI models a ChatGPT subscription (Codex) accepts, and the limits
 * the Codex backend enforces where they differ from the API's. This list
 * changes often upstream: it lives here and nowhere else (docs/providers/codex.md#models).
 */

/** Accepted explicitly, whatever their version number. */
const ALWAYS = new Set([
  "gpt-5.2",
  "gpt-5.3-codex",
  "gpt-5.3-codex-spark",
  "gpt-5.4",
  "gpt-5.4-mini",
  "gpt-5.5",
]);

/** Newer than this version are accepted too (unless `-pro`). */
const NEWER_THAN: [major: number, minor: number] = [5, 4];

/** Limits of the Codex backend that differ from models.dev's `openai` entry. */
const LIMIT_OVERRIDES: Record<string, { context: number; input: number; output: number }> = {
  "gpt-5.5": { context: 400000, input: 272000, output: 128000 },
};

/** Whether a subscription account can use this OpenAI model id. */
export function isCodexSubscriptionModel(id: string): boolean {
  if (/-pro(-|$)/.test(id)) return false;
  if (ALWAYS.has(id)) return true;
  const match = /^gpt-(\d+)\.(\d+)(?:-[a-z0-9-]+)?$/.exec(id);
  if (!match) return false;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major > NEWER_THAN[0] || (major === NEWER_THAN[0] && minor > NEWER_THAN[1]);
}

export function codexLimitOverride(
  id: string,
): { context: number; input: number; output: number } | undefined {
  return LIMIT_OVERRIDES[id];
}

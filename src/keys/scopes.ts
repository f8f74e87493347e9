/**
 * What an API key may use. Model patterns are exact ids or `*` globs and are
 * matched against both the plain model id ("claude-sonnet-4-5") and the id
 * as listed by /api.json and /v1/models ("anthropic/claude-sonnet-4-5"), so
 * an admin can write either.
 */
import type { ProviderId } from "../model/providers.ts";
import type { ApiKeyRecord } from "../model/keys.ts";

/** The prefix of a provider's models in /api.json and /v1/models ("" for Codex). */
export const LISTING_PREFIX: Record<ProviderId, string> = {
  codex: "",
  claude: "anthropic/",
  copilot: "copilot/",
};

export function listedModelId(provider: ProviderId, model: string): string {
  return LISTING_PREFIX[provider] + model;
}

export function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*");
  return new RegExp(`^${escaped}$`);
}

/**
 * Compiled patterns, shared: the proxy checks a key's patterns (up to 200)
 * on every request, and compiling them each time costs more than matching.
 * Patterns are few (admin-written); the bound only guards against growth.
 */
const compiled = new Map<string, RegExp>();
const MAX_COMPILED = 4096;

function patternRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    re = globToRegExp(pattern);
    compiled.set(pattern, re);
  }
  return re;
}

export function keyAllowsProvider(key: Pick<ApiKeyRecord, "providers">, provider: ProviderId) {
  return key.providers === undefined || key.providers.includes(provider);
}

export function keyAllowsModel(
  key: Pick<ApiKeyRecord, "providers" | "models">,
  provider: ProviderId,
  model: string,
): boolean {
  if (!keyAllowsProvider(key, provider)) return false;
  if (key.models === undefined) return true;
  const candidates = [model, listedModelId(provider, model)];
  return key.models.some((pattern) => {
    const re = patternRegExp(pattern);
    return candidates.some((c) => re.test(c));
  });
}

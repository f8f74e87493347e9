/**
 * What an API key may use. Model patterns are exact ids or `*` globs and are
 * matched against both the plain model id ("claude-sonnet-4-5") and the id
 * as listed by /api.json and /v1/models ("anthropic/claude-sonnet-4-5"), so
 * an admin can write either.
 */
import type { ProviderId } from "../providers/ids.ts";
import type { ApiKeyRecord } from "./types.ts";

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
    const re = globToRegExp(pattern);
    return candidates.some((c) => re.test(c));
  });
}

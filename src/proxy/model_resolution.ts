/**
 * Which provider serves a model id on the routes that accept every
 * provider's models (/v1/chat/completions, /v1/responses, /v1/messages,
 * /openai/v1/chat/completions, /anthropic/v1/messages):
 *
 * 0. An admin-defined alias names its target (model_variants.ts).
 * 1. An explicit provider prefix wins (`codex/`, `openai/`, `claude/`,
 *    `anthropic/`, `copilot/`, `github-copilot/`).
 * 2. Otherwise the provider that offers that id to this key (GET /v1/models);
 *    on a provider-prefixed route its own provider first, then Codex, Claude,
 *    Copilot: a subscription's own backend before Copilot, whose premium
 *    requests are the scarcer resource.
 * 2b. An id nobody offers that ends in an effort suffix whose base is
 *    offered is that base with the effort (model_variants.ts).
 * 3. An id nobody offers goes to the route's own provider (as before this
 *    routing existed); on /v1 routes to Claude for `claude-*`, to Codex for
 *    `gpt-*` and `o<digit>` ids, else it is a 400.
 */
import type { Deps } from "../deps.ts";
import { badRequest } from "../errors.ts";
import type { KeyScope } from "../registry/service.ts";
import { modelsForKey, type OfferedModel } from "../registry/service.ts";
import { PROVIDER_IDS, type ProviderId } from "../model/providers.ts";
import { proxyAdapter } from "../providers/mod.ts";
import { checkModelLength } from "./model_id.ts";
import {
  aliasVariant,
  type ModelVariant,
  providerVariant,
  suffixVariant,
} from "./model_variants.ts";

export const PROVIDER_PREFERENCE: readonly ProviderId[] = ["codex", "claude", "copilot"];

export interface ResolvedModel extends ModelVariant {
  provider: ProviderId;
  /** Without prefix, as the backend knows it. */
  model: string;
  /** The offer behind it, when the registry knows the model. */
  offered?: OfferedModel;
}

type RegistryDeps = Parameters<typeof modelsForKey>[0];

/** The provider named by an explicit prefix, and the plain id. */
export function prefixedModel(raw: string): { provider: ProviderId; model: string } | undefined {
  for (const provider of PROVIDER_IDS) {
    const prefix = proxyAdapter(provider).modelPrefixes.find((p) => raw.startsWith(p));
    if (prefix === undefined) continue;
    const model = raw.slice(prefix.length);
    if (model === "") throw badRequest("invalid_model", `The model "${raw}" names no model.`);
    return { provider, model };
  }
  return undefined;
}

function guess(model: string): ProviderId | undefined {
  if (model.startsWith("claude-")) return "claude";
  if (/^(gpt-|o\d)/.test(model)) return "codex";
  return undefined;
}

export async function resolveModel(
  deps: RegistryDeps | Deps,
  key: KeyScope,
  raw: string,
  home?: ProviderId,
): Promise<ResolvedModel> {
  checkModelLength(raw);
  // An alias first (model_variants.ts), then an id, then an effort suffix.
  const aliased = await aliasVariant(deps, key, raw);
  if (aliased) return aliased;
  const prefixed = prefixedModel(raw);
  const offered = await modelsForKey(deps, key);
  if (prefixed) {
    const offer = offered.find((m) => m.provider === prefixed.provider && m.id === prefixed.model);
    if (offer) return { ...prefixed, offered: offer };
    return await providerVariant(deps, key, prefixed.provider, prefixed.model, offered) ??
      prefixed;
  }
  const matches = offered.filter((m) => m.id === raw);
  const order = home === undefined ? PROVIDER_PREFERENCE : [home, ...PROVIDER_PREFERENCE];
  for (const provider of order) {
    const offer = matches.find((m) => m.provider === provider);
    if (offer) return { provider, model: raw, offered: offer };
  }
  const suffixed = await suffixVariant(deps, offered, raw, order);
  if (suffixed) return suffixed;
  const provider = home ?? guess(raw);
  if (provider === undefined) {
    throw badRequest(
      "unknown_model",
      `No provider offers the model "${raw}" to this API key; GET /v1/models lists the models, ` +
        `and a prefix (codex/, claude/, copilot/) names the provider.`,
    );
  }
  return { provider, model: raw };
}

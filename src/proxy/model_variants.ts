/**
 * Model ids that stand for another model (docs/api.md#model-aliases):
 *
 * - an alias (`fast` → `copilot/gpt-5-mini`), looked up first, by its exact
 *   name; a provider-qualified id never names an alias;
 * - an effort suffix (`gpt-5.5-high`, `claude-sonnet-4-5-thinking`), read
 *   only when the whole id is not a model Kleis offers and its base is
 *   (src/registry/effort_suffix.ts); an id that is neither passes on
 *   unchanged, and the backend decides.
 *
 * The key's offers are searched first, then everything Kleis offers, so a
 * base the key may not use is found and then refused by the scope check
 * (403) rather than passed on under its suffixed name. A suffix on a model
 * the registry marks as not reasoning is 400 `unsupported_effort`.
 */
import { badRequest } from "../errors.ts";
import type { ProviderId } from "../model/providers.ts";
import { aliasNamed } from "../registry/aliases.ts";
import { matchOffer, type OfferMatch } from "../registry/alias_offers.ts";
import { type EffortSplit, splitEffortSuffix } from "../registry/effort_suffix.ts";
import { type KeyScope, modelsForKey, type OfferedModel } from "../registry/service.ts";
import type { ReasoningEffort } from "../translate/neutral.ts";
import { unsupportedEffort } from "./effort_body.ts";
import { normalizeModel } from "./model_id.ts";
import { PROVIDER_NAMES } from "./proxy_errors.ts";

type RegistryDeps = Parameters<typeof modelsForKey>[0];

export interface ModelVariant {
  provider: ProviderId;
  /** As the backend knows it: the alias target, without an effort suffix. */
  model: string;
  offered?: OfferedModel;
  effort?: ReasoningEffort;
  /** The suffix that named the effort. */
  split?: EffortSplit;
  /** The alias the client named. */
  alias?: string;
}

/** Everything Kleis offers, whatever the key. */
const allOffers = (deps: RegistryDeps) => modelsForKey(deps, {});

function checked(provider: ProviderId, match: OfferMatch): ModelVariant {
  if (match.effort !== undefined && !match.offer.facts.reasoning) {
    throw unsupportedEffort(
      `The model "${match.model}" does not reason, so the suffix "${match.split!.suffix}" ` +
        `names no effort for it.`,
    );
  }
  return {
    provider,
    model: match.model,
    offered: match.offer,
    ...(match.effort === undefined ? {} : { effort: match.effort, split: match.split! }),
  };
}

/** A provider's model id, possibly suffixed, against the key's offers and then all. */
export async function providerVariant(
  deps: RegistryDeps,
  key: KeyScope,
  provider: ProviderId,
  model: string,
  scoped?: readonly OfferedModel[],
): Promise<ModelVariant | undefined> {
  const match = matchOffer(scoped ?? await modelsForKey(deps, key), provider, model) ??
    matchOffer(await allOffers(deps), provider, model);
  return match ? checked(provider, match) : undefined;
}

/** The alias named by `raw`, resolved to its target; undefined when `raw` is no alias. */
export async function aliasVariant(
  deps: RegistryDeps,
  key: KeyScope,
  raw: string,
): Promise<ModelVariant | undefined> {
  const alias = await aliasNamed(deps, raw);
  if (!alias) return undefined;
  const target = await providerVariant(deps, key, alias.provider, alias.model) ??
    { provider: alias.provider, model: alias.model };
  return { ...target, alias: raw };
}

/**
 * An unprefixed id with an effort suffix whose base some provider offers:
 * the first provider in `order` offering the base to the key, else to anyone.
 */
export async function suffixVariant(
  deps: RegistryDeps,
  scoped: readonly OfferedModel[],
  raw: string,
  order: readonly ProviderId[],
): Promise<ModelVariant | undefined> {
  const split = splitEffortSuffix(raw);
  if (!split) return undefined;
  for (const offers of [scoped, await allOffers(deps)]) {
    for (const provider of order) {
      const match = matchOffer(offers, provider, raw);
      if (match) return checked(provider, match);
    }
  }
  return undefined;
}

/** 400 for an alias sent to a route of a provider other than its target's. */
export function aliasOnWrongRoute(name: string, target: ProviderId) {
  return badRequest(
    "wrong_provider",
    `The alias "${name}" names a ${PROVIDER_NAMES[target]} model; ` +
      `send it to that provider's route or a /v1 route.`,
  );
}

/**
 * The model of a request on a route of one provider: an alias must name
 * that provider's model (400 `wrong_provider` otherwise); the id loses the
 * route's prefix (normalizeModel) and then an effort suffix.
 */
export async function nativeVariant(
  deps: RegistryDeps,
  key: KeyScope,
  provider: ProviderId,
  raw: string,
): Promise<ModelVariant> {
  const aliased = await aliasVariant(deps, key, raw);
  if (aliased) {
    if (aliased.provider !== provider) throw aliasOnWrongRoute(raw, aliased.provider);
    return aliased;
  }
  const model = normalizeModel(provider, raw);
  // The common case reads no offers: nothing that could be a suffix.
  if (!splitEffortSuffix(model)) return { provider, model };
  return await providerVariant(deps, key, provider, model) ?? { provider, model };
}

/**
 * Aliases and effort suffixes against the models Kleis offers: which offer
 * a provider's model id (possibly with an effort suffix) stands for, and the
 * listing of a key's models with its aliases added (/v1/models, /api.json).
 *
 * An alias is listed when the key may use its target (the target's offer is
 * in the key's list), with the target's capabilities, limits and cost; its
 * listed id is the alias name and it calls the target provider's route.
 */
import type { Deps } from "../deps.ts";
import type { ProviderId } from "../model/providers.ts";
import { runtimeSlot } from "../runtime.ts";
import type { ReasoningEffort } from "../translate/neutral.ts";
import { type AliasMap, cachedAliases, type ModelAlias } from "./aliases.ts";
import { type EffortSplit, splitEffortSuffix } from "./effort_suffix.ts";
import type { OfferedModel } from "./kleis_provider.ts";

export interface OfferMatch {
  offer: OfferedModel;
  /** The model as the backend knows it (the suffix stripped). */
  model: string;
  effort?: ReasoningEffort;
  split?: EffortSplit;
}

/**
 * The offer behind a provider's model id: the id itself when offered (a real
 * model always wins over a suffix reading), else its base when the id ends
 * in an effort suffix and the base is offered.
 */
export function matchOffer(
  offered: readonly OfferedModel[],
  provider: ProviderId,
  model: string,
): OfferMatch | undefined {
  const exact = offered.find((m) => m.provider === provider && m.id === model);
  if (exact) return { offer: exact, model };
  const split = splitEffortSuffix(model);
  if (!split) return undefined;
  const base = offered.find((m) => m.provider === provider && m.id === split.base);
  return base ? { offer: base, model: split.base, effort: split.effort, split } : undefined;
}

/** The offer an alias's target stands for, if offered (a suffix only on a reasoning model). */
export function aliasTargetOffer(
  alias: Pick<ModelAlias, "provider" | "model">,
  offered: readonly OfferedModel[],
): OfferMatch | undefined {
  const match = matchOffer(offered, alias.provider, alias.model);
  return match && (match.effort === undefined || match.offer.facts.reasoning) ? match : undefined;
}

/** The alias as a listed model: the target's facts and route under the alias's name. */
function aliasOffer(alias: ModelAlias, match: OfferMatch): OfferedModel {
  const target = match.offer;
  return {
    ...target,
    listedId: alias.name,
    facts: {
      ...target.facts,
      name: `${alias.name} (${target.facts.name})`,
      // A suffixed target reasons by construction (aliasTargetOffer checked the base does).
      reasoning: match.effort !== undefined || target.facts.reasoning,
    },
  };
}

/** Keyed by the key's model list, then checked against the alias map it was built with. */
const LISTED = runtimeSlot(
  "registry.aliasListings",
  () =>
    new WeakMap<readonly OfferedModel[], { aliases: AliasMap; models: readonly OfferedModel[] }>(),
);

/**
 * A key's models followed by its aliases, in name order. The same array while
 * neither the key's models nor the aliases changed (the /v1/models route
 * memoises its body on it): do not modify it.
 */
export async function withAliases(
  deps: Pick<Deps, "kv" | "now" | "runtime">,
  models: readonly OfferedModel[],
): Promise<readonly OfferedModel[]> {
  const aliases = await cachedAliases(deps);
  if (aliases.size === 0) return models;
  const memo = deps.runtime.get(LISTED);
  const hit = memo.get(models);
  if (hit && hit.aliases === aliases) return hit.models;
  const added: OfferedModel[] = [];
  for (const alias of [...aliases.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const match = aliasTargetOffer(alias, models);
    if (match) added.push(aliasOffer(alias, match));
  }
  const combined = Object.freeze([...models, ...added]);
  memo.set(models, { aliases, models: combined });
  return combined;
}

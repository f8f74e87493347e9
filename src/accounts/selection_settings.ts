/**
 * The account selection strategy of each provider (docs/api.md#account-selection),
 * stored at keys.selectionStrategy(provider); absent means fill-first. The
 * proxy reads it through its per-instance cache (src/proxy/selector.ts).
 */
import type { Deps } from "../deps.ts";
import { auditRecord } from "../audit.ts";
import { keys } from "../kv/keys.ts";
import { PROVIDER_IDS, type ProviderId } from "../model/providers.ts";
import {
  DEFAULT_SELECTION_STRATEGY,
  isSelectionStrategy,
  type SelectionSetting,
  type SelectionStrategy,
} from "../model/selection.ts";
import { conflict } from "../errors.ts";
import { commit } from "./kv_commit.ts";

export interface ProviderSelection {
  provider: ProviderId;
  strategy: SelectionStrategy;
  /** When an admin last set it; null while it is the default. */
  updatedAt: number | null;
}

/** Every provider's strategy (one KV read of all of them). */
export async function getSelectionStrategies(kv: Deno.Kv): Promise<ProviderSelection[]> {
  const entries = await kv.getMany<SelectionSetting[]>(
    PROVIDER_IDS.map((p) => keys.selectionStrategy(p)),
  );
  return PROVIDER_IDS.map((provider, i) => {
    const value = entries[i]?.value;
    return isSelectionStrategy(value?.strategy)
      ? { provider, strategy: value.strategy, updatedAt: value.updatedAt }
      : { provider, strategy: DEFAULT_SELECTION_STRATEGY, updatedAt: null };
  });
}

/** Sets a provider's strategy, audited in the same commit. */
export async function setSelectionStrategy(
  deps: Deps,
  provider: ProviderId,
  strategy: SelectionStrategy,
  actor = "admin",
): Promise<ProviderSelection> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await deps.kv.get<SelectionSetting>(keys.selectionStrategy(provider));
    const previous = current.value?.strategy ?? DEFAULT_SELECTION_STRATEGY;
    const updatedAt = deps.now();
    const setting: SelectionSetting = { strategy, updatedAt };
    const audit = auditRecord(deps, {
      action: "selection.updated",
      actor,
      target: provider,
      details: { strategy, previous },
    });
    const op = deps.kv.atomic()
      .check(current)
      .set(keys.selectionStrategy(provider), setting)
      .set(audit.key, audit.value, { expireIn: audit.expireIn });
    if ((await commit(deps, op)).ok) return { provider, strategy, updatedAt };
  }
  throw conflict("write_conflict", "The strategy changed meanwhile; try again.");
}

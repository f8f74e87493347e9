/**
 * Model aliases (docs/api.md#model-aliases): admin-defined names such as
 * `fast` for a provider-qualified model such as `copilot/gpt-5-mini`.
 *
 * One KV entry per alias at ["model_aliases", name]. The request path reads
 * them from a per-instance copy re-read after ALIAS_CACHE_TTL_MS (1 s, the
 * bound of the other cached configuration, docs/architecture.md), measured
 * with the injected clock; a change made by this app drops the copy at once.
 * Loads are single-flight.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import type { ProviderId } from "../model/providers.ts";
import { runtimeSlot } from "../runtime.ts";

export const ALIAS_CACHE_TTL_MS = 1_000;

export interface ModelAlias {
  name: string;
  provider: ProviderId;
  /** The model as the provider knows it, possibly with an effort suffix ("gpt-5.5-high"). */
  model: string;
  createdAt: number;
  updatedAt: number;
}

/** All aliases by name. The same object while nothing changed: callers must not modify it. */
export type AliasMap = ReadonlyMap<string, ModelAlias>;

interface AliasCacheState {
  value: AliasMap | undefined;
  at: number;
  /** Moves on every write by this app; a load begun before it is not kept. */
  generation: number;
  loading: { promise: Promise<AliasMap>; generation: number } | undefined;
}

const ALIAS_CACHE = runtimeSlot<AliasCacheState>("registry.aliases", () => ({
  value: undefined,
  at: 0,
  generation: 0,
  loading: undefined,
}));

type AliasDeps = Pick<Deps, "kv" | "now" | "runtime">;

export async function listAliasRecords(kv: Deno.Kv): Promise<ModelAlias[]> {
  const out: ModelAlias[] = [];
  for await (const entry of kv.list<ModelAlias>({ prefix: keys.modelAliasesPrefix() })) {
    out.push(entry.value);
  }
  return out;
}

/** The aliases as the request path sees them (at most ALIAS_CACHE_TTL_MS old). */
export function cachedAliases(deps: AliasDeps): Promise<AliasMap> | AliasMap {
  const state = deps.runtime.get(ALIAS_CACHE);
  const now = deps.now();
  // A clock that went backwards counts as expired.
  if (state.value && now >= state.at && now - state.at < ALIAS_CACHE_TTL_MS) return state.value;
  const generation = state.generation;
  if (state.loading && state.loading.generation === generation) return state.loading.promise;
  const promise = (async () => {
    const startedAt = deps.now();
    const records = await listAliasRecords(deps.kv);
    const value: AliasMap = new Map(records.map((a) => [a.name, a]));
    if (state.generation === generation) {
      state.value = value;
      state.at = startedAt;
    }
    return value;
  })().finally(() => {
    if (state.loading?.promise === promise) state.loading = undefined;
  });
  state.loading = { promise, generation };
  return promise;
}

/** The alias a client's model id names; a provider-qualified id never names one. */
export async function aliasNamed(deps: AliasDeps, raw: string): Promise<ModelAlias | undefined> {
  if (raw.includes("/")) return undefined;
  return (await cachedAliases(deps)).get(raw);
}

/** Drops this app's copy (after a write here, so the writer sees its change at once). */
export function invalidateAliases(deps: Pick<Deps, "runtime">): void {
  const state = deps.runtime.get(ALIAS_CACHE);
  state.generation++;
  state.value = undefined;
  state.loading = undefined;
}

/**
 * The embedding models Kleis offers: only Copilot has them (its live
 * `/models` list marks them `capabilities.type: "embeddings"`). They are
 * listed in /v1/models and /copilot/v1/models but not in /api.json, whose
 * clients (OpenCode) only chat; and they are the only models the embeddings
 * routes accept (src/proxy/embeddings.ts).
 *
 * From the same per-account cached lists as Copilot's chat models
 * (copilot_models.ts). An account whose list cannot be had (or was stored
 * before Kleis kept embedding models) counts as offering FALLBACK_MODELS,
 * the model every Copilot plan has listed. Results are memoised on the list
 * objects, so a request with an unchanged scope gets the same array.
 */
import type { KeyScope } from "./service.ts";
import type { AccountRecord } from "../model/accounts.ts";
import type { CopilotEmbeddingModel } from "../providers/copilot/models.ts";
import { keyAllowsModel, keyAllowsProvider, listedModelId } from "../keys/scopes.ts";
import { sharedAccountCache } from "../accounts/account_cache.ts";
import { copilotListForAccount } from "./copilot_models.ts";
import { runtimeSlot } from "../runtime.ts";

/** One embedding model on offer. */
export interface EmbeddingOffer {
  provider: "copilot";
  /** As sent to the backend. */
  id: string;
  /** As listed in /v1/models (`copilot/<id>`). */
  listedId: string;
  name: string;
}

export const FALLBACK_MODELS: readonly CopilotEmbeddingModel[] = Object.freeze([
  { id: "text-embedding-3-small", name: "Embedding V3 small" },
]);

type RegistryDeps = Parameters<typeof copilotListForAccount>[0];

interface Memo {
  /** By the serving accounts' ids: the lists seen and the union built from them. */
  sets: Map<string, { lists: readonly unknown[]; offers: readonly EmbeddingOffer[] }>;
  /** By the union, then the key's model patterns. */
  narrowed: WeakMap<readonly EmbeddingOffer[], Map<string, readonly EmbeddingOffer[]>>;
}
const MEMO = runtimeSlot("registry.embeddingOffers", (): Memo => ({
  sets: new Map(),
  narrowed: new WeakMap(),
}));
/** Distinct account sets and pattern sets are few; bound them anyway. */
const MAX_MEMOS = 64;
const NONE: readonly EmbeddingOffer[] = Object.freeze([]);

/**
 * Every embedding model the Copilot accounts that may serve a key offer
 * (enabled; the key's pinned account only, when it has one), not yet
 * narrowed by the key's scopes. Undefined when no account may serve: the
 * proxy then answers as for any model without an account.
 */
export async function copilotEmbeddingModels(
  deps: RegistryDeps,
  pinnedAccountId?: string,
): Promise<readonly EmbeddingOffer[] | undefined> {
  const { accounts } = (await sharedAccountCache(deps).all()).copilot;
  const serving = accounts.filter((a: AccountRecord) =>
    a.enabled && (pinnedAccountId === undefined || a.id === pinnedAccountId)
  );
  if (serving.length === 0) return undefined;
  const lists = await Promise.all(
    serving.map(async (a) => (await copilotListForAccount(deps, a))?.embeddings),
  );
  const memo = deps.runtime.get(MEMO);
  const setKey = serving.map((a) => a.id).join(",");
  const known = memo.sets.get(setKey);
  if (known && known.lists.length === lists.length && known.lists.every((l, i) => l === lists[i])) {
    return known.offers;
  }
  const seen = new Set<string>();
  const offers = Object.freeze(
    lists.flatMap((list) => list ?? FALLBACK_MODELS)
      .filter((m) => !seen.has(m.id) && seen.add(m.id))
      .map((m): EmbeddingOffer => ({
        provider: "copilot",
        id: m.id,
        listedId: listedModelId("copilot", m.id),
        name: m.name,
      })),
  );
  if (memo.sets.size >= MAX_MEMOS) memo.sets.clear();
  memo.sets.set(setKey, { lists, offers });
  return offers;
}

/** The embedding models a key may use (the same array while nothing changes). */
export async function embeddingModelsForKey(
  deps: RegistryDeps,
  key: KeyScope,
): Promise<readonly EmbeddingOffer[]> {
  if (!keyAllowsProvider(key, "copilot")) return NONE;
  const all = await copilotEmbeddingModels(deps, key.accounts?.copilot);
  if (all === undefined || all.length === 0) return NONE;
  if (key.models === undefined) return all;
  const memo = deps.runtime.get(MEMO);
  let byPatterns = memo.narrowed.get(all);
  if (!byPatterns) memo.narrowed.set(all, byPatterns = new Map());
  const patterns = key.models.join("\n");
  let narrowed = byPatterns.get(patterns);
  if (!narrowed) {
    narrowed = Object.freeze(all.filter((m) => keyAllowsModel(key, "copilot", m.id)));
    if (byPatterns.size >= MAX_MEMOS) byPatterns.clear();
    byPatterns.set(patterns, narrowed);
  }
  return narrowed;
}

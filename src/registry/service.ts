/**
 * What models Kleis offers, to everyone (/api.json) or to one key (its
 * discovery URL and the /models routes): only providers with an enabled
 * account, the key's providers and model patterns, and for a pinned account
 * only what that account offers.
 *
 * A request reads no KV in the steady state: the registry, the accounts and
 * Copilot's live lists come from per-instance copies re-checked at most once
 * a second, and the per-provider offers are built once per registry version
 * (Copilot's: per set of live lists), so a request only narrows by its key.
 */
import type { Deps } from "../deps.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import { keyAllowsModel, keyAllowsProvider } from "../keys/scopes.ts";
import { sharedAccountCache } from "../accounts/account_cache.ts";
import type { AccountRecord } from "../model/accounts.ts";
import { copilotModelsForAccount } from "./copilot_models.ts";
import {
  claudeOffer,
  codexOffer,
  copilotOfferFromLive,
  copilotOfferFromRegistry,
  kleisProviderEntry,
  type OfferedModel,
  translatedProviderEntries,
} from "./kleis_provider.ts";
import { getRegistrySnapshot } from "./snapshot.ts";
import type { ModelsDevRegistry } from "./types.ts";
import { runtimeSlot } from "../runtime.ts";
import { withAliases } from "./alias_offers.ts";

export type { OfferedModel } from "./kleis_provider.ts";

/** The scope fields of a key that narrow the offer. */
export type KeyScope = Pick<ApiKeyRecord, "providers" | "models" | "accounts">;

type RegistryDeps = Pick<
  Deps,
  "kv" | "config" | "fetch" | "now" | "random" | "log" | "sealingKey" | "runtime"
>;

/** Whether an account may serve the key: enabled, and the key's pinned one where it has one. */
function eligible(account: AccountRecord, pinned: string | undefined): boolean {
  return account.enabled && (pinned === undefined || account.id === pinned);
}

/**
 * The offers one registry version gives, built once: Codex and Claude depend
 * on the registry only; Copilot on the registry and the live lists of the
 * accounts asked about (keyed by their ids, checked by list identity, since
 * copilotModelsForAccount keeps an unchanged list's object).
 */
interface RegistryOffers {
  codex: OfferedModel[];
  claude: OfferedModel[];
  copilotFallback: OfferedModel[];
  copilotLive: Map<string, { lists: (readonly unknown[] | undefined)[]; offer: OfferedModel[] }>;
  /** Final lists by model patterns, then by offer arrays (see listOf). */
  lists: Map<
    string,
    { parts: readonly (readonly OfferedModel[])[]; models: readonly OfferedModel[] }[]
  >;
}
/** Distinct account sets are few (all enabled, plus each pinned one); bound them anyway. */
const MAX_COPILOT_SETS = 64;

/** This app's offers, by the registry object they were built from. */
const OFFERS = runtimeSlot(
  "registry.offers",
  () => new WeakMap<ModelsDevRegistry, RegistryOffers>(),
);
function offersOf(deps: RegistryDeps, registry: ModelsDevRegistry): RegistryOffers {
  const offersByRegistry = deps.runtime.get(OFFERS);
  let offers = offersByRegistry.get(registry);
  if (!offers) {
    offers = {
      codex: codexOffer(registry),
      claude: claudeOffer(registry),
      copilotFallback: copilotOfferFromRegistry(registry),
      copilotLive: new Map(),
      lists: new Map(),
    };
    offersByRegistry.set(registry, offers);
  }
  return offers;
}

async function copilotOffer(
  deps: RegistryDeps,
  accounts: AccountRecord[],
  registry: ModelsDevRegistry,
  offers: RegistryOffers,
): Promise<OfferedModel[]> {
  const lists = await Promise.all(accounts.map((a) => copilotModelsForAccount(deps, a)));
  const setKey = accounts.map((a) => a.id).join(",");
  const memo = offers.copilotLive.get(setKey);
  if (memo && memo.lists.length === lists.length && memo.lists.every((l, i) => l === lists[i])) {
    return memo.offer;
  }
  const live = lists.filter((l) => l !== undefined);
  let offer = offers.copilotFallback;
  if (live.length > 0) {
    // Union over accounts; the first account (by priority) describes a model.
    const seen = new Set<string>();
    const union = live.flat().filter((m) => !seen.has(m.id) && seen.add(m.id));
    offer = copilotOfferFromLive(union, registry);
  }
  if (offers.copilotLive.size >= MAX_COPILOT_SETS) offers.copilotLive.clear();
  offers.copilotLive.set(setKey, { lists, offer });
  return offer;
}

const NONE: readonly OfferedModel[] = Object.freeze([]);
/** Distinct pattern sets and offer combinations are few (one per key set-up); bound them anyway. */
const MAX_PATTERNS = 256;
const MAX_LISTS_PER_PATTERNS = 16;

/**
 * The models a scope gets from the per-provider offers: the same array while
 * the offers and the scope's patterns are the same (callers must not change
 * it; the /models routes memoise their bodies on it).
 */
function listOf(
  offers: RegistryOffers,
  parts: readonly (readonly OfferedModel[])[],
  key: KeyScope | undefined,
): readonly OfferedModel[] {
  const patterns = key?.models === undefined ? "*" : `=${key.models.join("\n")}`;
  let memos = offers.lists.get(patterns);
  const memo = memos?.find((m) => m.parts.every((part, i) => part === parts[i]));
  if (memo) return memo.models;
  const all = parts.flat();
  // Providers are already narrowed; only model patterns are left to check.
  const models = Object.freeze(
    key?.models === undefined ? all : all.filter((m) => keyAllowsModel(key, m.provider, m.id)),
  );
  if (!memos || memos.length >= MAX_LISTS_PER_PATTERNS) {
    if (offers.lists.size >= MAX_PATTERNS) offers.lists.clear();
    offers.lists.set(patterns, memos = []);
  }
  memos.push({ parts, models });
  return models;
}

async function offeredModels(
  deps: RegistryDeps,
  registry: ModelsDevRegistry,
  key: KeyScope | undefined,
): Promise<readonly OfferedModel[]> {
  const offers = offersOf(deps, registry);
  const accounts = await sharedAccountCache(deps).all();
  // Codex and Claude offer the same whichever of their accounts serves; only
  // Copilot's offer depends on which accounts (their live lists).
  const part = (provider: "codex" | "claude") => {
    if (key && !keyAllowsProvider(key, provider)) return NONE;
    const pinned = key?.accounts?.[provider];
    return accounts[provider].accounts.some((a) => eligible(a, pinned)) ? offers[provider] : NONE;
  };
  let copilot = NONE;
  if (!key || keyAllowsProvider(key, "copilot")) {
    const pinned = key?.accounts?.copilot;
    const serving = accounts.copilot.accounts.filter((a) => eligible(a, pinned));
    if (serving.length > 0) copilot = await copilotOffer(deps, serving, registry, offers);
  }
  // Codex, Claude, Copilot: the order /v1/models and /api.json list them in.
  return listOf(offers, [part("codex"), part("claude"), copilot], key);
}

/**
 * Every model a key may use, in listing order. The array is shared by every
 * request with the same scope while nothing changes: do not modify it.
 */
export async function modelsForKey(
  deps: RegistryDeps,
  key: KeyScope,
): Promise<readonly OfferedModel[]> {
  const snapshot = await getRegistrySnapshot(deps);
  return await offeredModels(deps, snapshot.registry, key);
}

/**
 * What /v1/models lists for a key: its models, then the aliases whose target
 * it may use (alias_offers.ts). The same array while nothing changes.
 */
export async function listedModelsForKey(
  deps: RegistryDeps,
  key: KeyScope,
): Promise<readonly OfferedModel[]> {
  return await withAliases(deps, await modelsForKey(deps, key));
}

/**
 * The /api.json body: the registry (models.dev or bundled) plus the `kleis`
 * provider, built as text so the ~1 MB registry is never re-serialised.
 */
export async function registryDocument(
  deps: RegistryDeps,
  options: { baseUrl: string; key?: KeyScope },
): Promise<string> {
  const snapshot = await getRegistrySnapshot(deps);
  const models = await withAliases(
    deps,
    await offeredModels(deps, snapshot.registry, options.key),
  );
  const kleis = JSON.stringify(kleisProviderEntry(models, options.baseUrl));
  // The other providers' entries as members of the outer object (no braces).
  const translated = JSON.stringify(translatedProviderEntries(models, options.baseUrl)).slice(
    1,
    -1,
  );
  const body = snapshot.text.trimEnd();
  const open = body.slice(0, -1).trimEnd();
  return `${open}${open.endsWith("{") ? "" : ","}"kleis":${kleis},${translated}}`;
}

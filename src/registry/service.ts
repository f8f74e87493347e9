/**
 * What models Kleis offers, to everyone (/api.json) or to one key (its
 * discovery URL and the /models routes): only providers with an enabled
 * account, the key's providers and model patterns, and for a pinned account
 * only what that account offers.
 */
import type { Deps } from "../deps.ts";
import type { ApiKeyRecord } from "../keys/types.ts";
import { keyAllowsModel, keyAllowsProvider } from "../keys/scopes.ts";
import { PROVIDER_IDS, type ProviderId } from "../providers/ids.ts";
import { listAccounts } from "../accounts/repository.ts";
import type { AccountRecord } from "../accounts/types.ts";
import { copilotModelsForAccount } from "./copilot_models.ts";
import {
  claudeOffer,
  codexOffer,
  copilotOfferFromLive,
  copilotOfferFromRegistry,
  kleisProviderEntry,
  type OfferedModel,
} from "./kleis_provider.ts";
import { getRegistrySnapshot } from "./snapshot.ts";
import type { ModelsDevRegistry } from "./types.ts";

export type { OfferedModel } from "./kleis_provider.ts";

/** The scope fields of a key that narrow the offer. */
export type KeyScope = Pick<ApiKeyRecord, "providers" | "models" | "accounts">;

type RegistryDeps = Pick<
  Deps,
  "kv" | "config" | "fetch" | "now" | "random" | "log" | "sealingKey"
>;

/** Enabled accounts per provider, narrowed to the key's pinned account where it has one. */
function eligibleAccounts(
  accounts: AccountRecord[],
  provider: ProviderId,
  key: KeyScope | undefined,
): AccountRecord[] {
  const pinned = key?.accounts?.[provider];
  return accounts.filter((a) =>
    a.provider === provider && a.enabled && (pinned === undefined || a.id === pinned)
  );
}

async function copilotOffer(
  deps: RegistryDeps,
  accounts: AccountRecord[],
  registry: ModelsDevRegistry,
): Promise<OfferedModel[]> {
  const lists = await Promise.all(accounts.map((a) => copilotModelsForAccount(deps, a)));
  const live = lists.filter((l) => l !== undefined);
  if (live.length === 0) return copilotOfferFromRegistry(registry);
  // Union over accounts; the first account (by priority) describes a model.
  const seen = new Set<string>();
  const union = live.flat().filter((m) => !seen.has(m.id) && seen.add(m.id));
  return copilotOfferFromLive(union, registry);
}

async function offeredModels(
  deps: RegistryDeps,
  registry: ModelsDevRegistry,
  key: KeyScope | undefined,
): Promise<OfferedModel[]> {
  const accounts = await listAccounts(deps.kv);
  const perProvider = await Promise.all(PROVIDER_IDS.map(async (provider) => {
    if (key && !keyAllowsProvider(key, provider)) return [];
    const eligible = eligibleAccounts(accounts, provider, key);
    if (eligible.length === 0) return [];
    if (provider === "codex") return codexOffer(registry);
    if (provider === "claude") return claudeOffer(registry);
    return await copilotOffer(deps, eligible, registry);
  }));
  // Codex, Claude, Copilot: the order /v1/models and /api.json list them in.
  const order: ProviderId[] = ["codex", "claude", "copilot"];
  return order.flatMap((p) => perProvider[PROVIDER_IDS.indexOf(p)] ?? [])
    .filter((m) => !key || keyAllowsModel(key, m.provider, m.id));
}

/** Every model a key may use, in listing order. */
export async function modelsForKey(deps: RegistryDeps, key: KeyScope): Promise<OfferedModel[]> {
  const snapshot = await getRegistrySnapshot(deps);
  return await offeredModels(deps, snapshot.registry, key);
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
  const models = await offeredModels(deps, snapshot.registry, options.key);
  const kleis = JSON.stringify(kleisProviderEntry(models, options.baseUrl));
  const body = snapshot.text.trimEnd();
  const open = body.slice(0, -1).trimEnd();
  return `${open}${open.endsWith("{") ? "" : ","}"kleis":${kleis}}`;
}

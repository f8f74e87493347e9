/**
 * The models Kleis offers per provider, built from models.dev facts (or the
 * bundled catalog) and Copilot's live lists, and the `kleis` provider entry
 * of /api.json made from them.
 *
 * Each model names the AI SDK package OpenCode must load and the Kleis route
 * it calls (docs/api.md#the-registry). @ai-sdk/openai calls `{api}/responses`,
 * @ai-sdk/openai-compatible `{api}/chat/completions`, @ai-sdk/anthropic
 * `{api}/messages` (read in their sources), so Copilot's Claude models get
 * @ai-sdk/anthropic with `{base}/copilot/v1` and land on
 * /copilot/v1/messages, as OpenCode's own Copilot provider does.
 */
import type { ProviderId } from "../model/providers.ts";
import { PROXY_ROUTE_PREFIX } from "../providers/proxy_types.ts";
import { listedModelId } from "../keys/scopes.ts";
import { codexLimitOverride, isCodexSubscriptionModel } from "../providers/codex/models.ts";
import {
  type CopilotApiKind,
  copilotApiKind,
  type CopilotLiveModel,
} from "../providers/copilot/models.ts";
import { bundledCatalog } from "./bundled_catalog.ts";
import {
  type KleisModelEntry,
  type ModelsDevModel,
  type ModelsDevProvider,
  type ModelsDevRegistry,
  SOURCE_PROVIDER,
} from "./types.ts";

type Facts = Omit<KleisModelEntry, "id" | "provider">;

/** One model Kleis offers. */
export interface OfferedModel {
  provider: ProviderId;
  /** As sent to the backend. */
  id: string;
  /** As listed in /api.json and /v1/models. */
  listedId: string;
  facts: Facts;
  npm: string;
}

const ZERO_COST = { input: 0, output: 0, cache_read: 0, cache_write: 0 } as const;

const COPILOT_NPM: Record<CopilotApiKind, string> = {
  messages: "@ai-sdk/anthropic",
  responses: "@ai-sdk/openai",
  chat: "@ai-sdk/openai-compatible",
};

/** models.dev's entry for a provider, else the bundled one (models.dev may drop or rename). */
export function sourceProvider(registry: ModelsDevRegistry, provider: ProviderId) {
  const id = SOURCE_PROVIDER[provider];
  const found = registry[id];
  return found && typeof found.models === "object"
    ? found
    : bundledCatalog()[id] as ModelsDevProvider;
}

const positive = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0;

/** Kleis's facts of a models.dev model; undefined without usable limits (OpenCode needs them). */
export function factsOf(model: ModelsDevModel): Facts | undefined {
  const limit = model.limit;
  if (!limit || !positive(limit.context) || !positive(limit.output)) return undefined;
  const attachment = model.attachment ?? false;
  const facts: Facts = {
    name: typeof model.name === "string" && model.name ? model.name : model.id,
    attachment,
    reasoning: model.reasoning ?? false,
    tool_call: model.tool_call ?? true,
    temperature: model.temperature ?? true,
    release_date: model.release_date ?? "",
    modalities: model.modalities ??
      { input: attachment ? ["text", "image"] : ["text"], output: ["text"] },
    open_weights: model.open_weights ?? false,
    cost: { ...ZERO_COST },
    limit: { context: limit.context!, output: limit.output! },
  };
  if (positive(limit.input)) facts.limit.input = limit.input!;
  if (model.family) facts.family = model.family;
  if (model.interleaved !== undefined) facts.interleaved = model.interleaved;
  if (model.structured_output !== undefined) facts.structured_output = model.structured_output;
  if (model.knowledge) facts.knowledge = model.knowledge;
  if (model.last_updated) facts.last_updated = model.last_updated;
  return facts;
}

function usable(model: ModelsDevModel): boolean {
  return typeof model?.id === "string" && model.status !== "deprecated";
}

function offer(provider: ProviderId, id: string, facts: Facts, npm: string): OfferedModel {
  return { provider, id, listedId: listedModelId(provider, id), facts, npm };
}

/** A provider's models.dev models Kleis can offer (usable, with limits), in registry order. */
function registryOffer(
  registry: ModelsDevRegistry,
  provider: ProviderId,
  npmOf: (id: string) => string,
  accepts: (id: string) => boolean = () => true,
): OfferedModel[] {
  const out: OfferedModel[] = [];
  for (const [id, model] of Object.entries(sourceProvider(registry, provider).models)) {
    if (!usable(model) || !accepts(id)) continue;
    const facts = factsOf(model);
    if (facts) out.push(offer(provider, id, facts, npmOf(id)));
  }
  return out;
}

export function codexOffer(registry: ModelsDevRegistry): OfferedModel[] {
  const out = registryOffer(registry, "codex", () => "@ai-sdk/openai", isCodexSubscriptionModel);
  for (const model of out) {
    const override = codexLimitOverride(model.id);
    if (override) model.facts.limit = { ...override };
  }
  return out;
}

export function claudeOffer(registry: ModelsDevRegistry): OfferedModel[] {
  return registryOffer(registry, "claude", () => "@ai-sdk/anthropic");
}

/** Copilot from models.dev's `github-copilot` list, when no live list can be had. */
export function copilotOfferFromRegistry(registry: ModelsDevRegistry): OfferedModel[] {
  return registryOffer(registry, "copilot", (id) => COPILOT_NPM[copilotApiKind(id)]);
}

/** Live Copilot models, with models.dev metadata where it knows the model. */
export function copilotOfferFromLive(
  live: CopilotLiveModel[],
  registry: ModelsDevRegistry,
): OfferedModel[] {
  const known = sourceProvider(registry, "copilot").models;
  const out: OfferedModel[] = [];
  for (const model of live) {
    const meta = known[model.id];
    const base = meta && usable(meta) ? factsOf(meta) : undefined;
    const context = model.contextWindow ?? base?.limit.context ?? model.maxPrompt;
    const output = model.maxOutput ?? base?.limit.output;
    if (!positive(context) || !positive(output)) continue;
    const vision = model.vision ?? base?.attachment ?? false;
    const facts: Facts = {
      ...(base ?? {
        name: model.name,
        temperature: true,
        release_date: releaseFromVersion(model),
        open_weights: false,
        cost: { ...ZERO_COST },
      }),
      name: base?.name ?? model.name,
      attachment: vision,
      reasoning: base?.reasoning ?? model.reasoning ?? false,
      tool_call: model.toolCalls ?? base?.tool_call ?? true,
      modalities: base?.modalities ??
        { input: vision ? ["text", "image"] : ["text"], output: ["text"] },
      limit: { context: context!, output: output! },
    } as Facts;
    const input = model.maxPrompt ?? base?.limit.input;
    if (positive(input)) facts.limit.input = input!;
    const kind = copilotApiKind(model.id, model.supportedEndpoints);
    out.push(offer("copilot", model.id, facts, COPILOT_NPM[kind]));
  }
  return out;
}

/** Copilot versions look like "gpt-4.1-2025-04-14": the date is the release. */
function releaseFromVersion(model: CopilotLiveModel): string {
  const match = /(\d{4}-\d{2}-\d{2})$/.exec(model.version ?? "");
  return match?.[1] ?? "";
}

/** The model entry of the `kleis` provider. */
export function kleisModelEntry(model: OfferedModel, baseUrl: string): KleisModelEntry {
  return {
    id: model.listedId,
    ...model.facts,
    provider: { npm: model.npm, api: `${baseUrl}${PROXY_ROUTE_PREFIX[model.provider]}` },
  };
}

/** The `kleis` provider of /api.json. */
export function kleisProviderEntry(models: readonly OfferedModel[], baseUrl: string) {
  return {
    id: "kleis",
    name: "Kleis",
    env: ["KLEIS_API_KEY"],
    // Provider-level defaults; every model overrides both with its own route.
    npm: "@ai-sdk/openai",
    api: `${baseUrl}${PROXY_ROUTE_PREFIX.codex}`,
    doc: `${baseUrl}/admin/`,
    models: Object.fromEntries(models.map((m) => [m.listedId, kleisModelEntry(m, baseUrl)])),
  };
}

/**
 * The call behind /copilot/v1/embeddings and /v1/embeddings
 * (docs/api.md#embeddings). Only Copilot has embedding models, and only the
 * models its lists mark as such are sent on (src/registry/embedding_models.ts):
 * a chat model, or any model of Codex or Claude, is a 400 that names the
 * models there are, before anything reaches a backend. The body itself is
 * checked by the Copilot adapter (src/providers/copilot/embeddings.ts).
 */
import type { Deps } from "../deps.ts";
import { badRequest } from "../errors.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import type { ProviderId } from "../model/providers.ts";
import { aliasNamed } from "../registry/aliases.ts";
import { copilotEmbeddingModels, type EmbeddingOffer } from "../registry/embedding_models.ts";
import type { CallPlan } from "./call_plan.ts";
import { checkModelLength, normalizeModel } from "./model_id.ts";
import { prefixedModel, resolveModel } from "./model_resolution.ts";
import { aliasOnWrongRoute } from "./model_variants.ts";
import { PROVIDER_NAMES } from "./proxy_errors.ts";

export const EMBEDDINGS_ENDPOINT = "/embeddings";

function names(offered: readonly EmbeddingOffer[]): string {
  return offered.map((m) => m.listedId).join(", ") || "none right now";
}

function noEmbeddings(provider: ProviderId, offered: readonly EmbeddingOffer[]) {
  return badRequest(
    "embeddings_unsupported",
    `${PROVIDER_NAMES[provider]} has no embedding models; the embedding models are ` +
      `GitHub Copilot's: ${names(offered)}.`,
  );
}

export async function planEmbeddings(
  deps: Deps,
  input: { model: string; key: ApiKeyRecord; home: ProviderId | null },
): Promise<CallPlan> {
  const { key } = input;
  checkModelLength(input.model);
  // An alias stands for its target here as on the chat routes; a
  // provider-qualified id never names one (docs/api.md#model-aliases).
  const alias = await aliasNamed(deps, input.model);
  if (alias && input.home === "copilot" && alias.provider !== "copilot") {
    throw aliasOnWrongRoute(alias.name, alias.provider);
  }
  const raw = alias ? alias.model : input.model;
  const prefixed = alias
    ? { provider: alias.provider, model: alias.model }
    : input.home === "copilot"
    ? { provider: "copilot" as const, model: normalizeModel("copilot", raw) }
    : prefixedModel(raw);
  const offered = await copilotEmbeddingModels(deps, key.accounts?.copilot);
  const plan = (model: string): CallPlan => ({
    provider: "copilot",
    model,
    build: () => ({ endpoint: EMBEDDINGS_ENDPOINT }),
  });
  if (prefixed && prefixed.provider !== "copilot") {
    throw noEmbeddings(prefixed.provider, offered ?? []);
  }
  const model = prefixed?.model ?? raw;
  if (offered?.some((m) => m.id === model)) return plan(model);
  if (!prefixed) {
    // An id some provider offers under that name, or one that looks like another's.
    const resolved = await resolveModel(deps, key, raw).catch(() => undefined);
    if (resolved && resolved.provider !== "copilot") {
      throw noEmbeddings(resolved.provider, offered ?? []);
    }
  }
  // No account may serve: the engine answers as for any model (503 no_account).
  if (offered === undefined) return plan(model);
  throw badRequest(
    "not_an_embedding_model",
    `"${raw}" is not an embedding model; GitHub Copilot's are: ${names(offered)} ` +
      `(GET /v1/models lists them).`,
  );
}

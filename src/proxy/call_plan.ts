/**
 * The call a request on a route that accepts every provider's models turns
 * into: the provider and plain model id (resolved from the id, see
 * model_resolution.ts), then, once the key's scopes have been checked, the
 * backend endpoint and body — the client's own body when the backend speaks
 * the client's API, else the translated one (src/translate/).
 */
import type { Deps } from "../deps.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import type { ProviderId } from "../model/providers.ts";
import type { JsonObject } from "../json.ts";
import type { ReasoningEffort } from "../translate/neutral.ts";
import { API_ENDPOINT, type ApiShape, Translation } from "../translate/translation.ts";
import { readMessagesRequest } from "../translate/messages/request_read.ts";
import { estimateInputTokens } from "../translate/count_tokens.ts";
import { backendApiFor, backendApis } from "./api_routing.ts";
import { resolveModel } from "./model_resolution.ts";
import { applyEffort } from "./effort_body.ts";

/** What the route forwards (or answers itself). */
export interface CallBuild {
  endpoint: string;
  /** Replace the client's body, raw body and headers (translated calls). */
  body?: JsonObject;
  rawBody?: string;
  headers?: Headers;
  translation?: Translation;
  /** Answered by Kleis without a backend (count_tokens of a model whose backend has none). */
  local?: (requestId: string) => Response;
}

export interface CallPlan {
  provider: ProviderId;
  model: string;
  /** An effort the model id named by a suffix (model_variants.ts). */
  effort?: ReasoningEffort;
  /** Called after the key's scopes allowed provider and model. */
  build(): CallBuild;
}

export interface PlanInput {
  api: ApiShape | "count_tokens";
  body: JsonObject;
  model: string;
  key: ApiKeyRecord;
  /** The route's own provider (provider-prefixed routes). */
  home?: ProviderId;
  headers: Headers;
}

/**
 * Client headers for a translated call: the API-specific ones mean nothing
 * to another API (an OpenAI client's `accept: application/json` on a stream
 * would mislead the Claude adapter).
 */
function translatedHeaders(headers: Headers): Headers {
  const out = new Headers(headers);
  for (const name of ["accept", "anthropic-version", "anthropic-beta"]) out.delete(name);
  return out;
}

export async function planCall(deps: Deps, input: PlanInput): Promise<CallPlan> {
  const resolved = await resolveModel(deps, input.key, input.model, input.home);
  const { provider, model } = resolved;
  if (input.api === "count_tokens") {
    return {
      provider,
      model,
      build(): CallBuild {
        if (provider === "claude") return { endpoint: "/messages/count_tokens" };
        // Neither Codex nor Copilot counts tokens: estimated from the request.
        const tokens = estimateInputTokens(readMessagesRequest(input.body));
        return {
          endpoint: "/messages/count_tokens",
          local: (requestId) =>
            Response.json({ input_tokens: tokens }, {
              headers: { "x-kleis-request-id": requestId, "x-kleis-estimate": "true" },
            }),
        };
      },
    };
  }
  const client = input.api;
  const { effort, split } = resolved;
  // Claude thinking has a field only in Messages: a Copilot Claude model
  // with a thinking suffix goes there even for a Chat Completions client.
  const backend = split?.family === "claude" && backendApis(resolved).includes("messages")
    ? "messages"
    : backendApiFor(resolved, client);
  const limit = resolved.offered?.facts.limit.output;
  return {
    provider,
    model,
    ...(effort === undefined ? {} : { effort }),
    build(): CallBuild {
      if (backend === client) {
        if (effort === undefined) return { endpoint: API_ENDPOINT[client] };
        const body = applyEffort(client, input.body, effort, split!.family, limit);
        return { endpoint: API_ENDPOINT[client], body, rawBody: JSON.stringify(body) };
      }
      const translation = new Translation({
        client,
        backend,
        model,
        clientModel: input.model,
        ...(limit === undefined ? {} : { outputLimit: limit }),
        ...(effort === undefined ? {} : { reasoningEffort: effort }),
      }, input.body);
      const rawBody = JSON.stringify(translation.body);
      return {
        endpoint: API_ENDPOINT[backend],
        body: translation.body,
        rawBody,
        headers: translatedHeaders(input.headers),
        translation,
      };
    },
  };
}

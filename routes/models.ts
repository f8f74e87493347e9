/**
 * Model lists for API clients: GET /v1/models (every model the key may use,
 * ids as in /api.json, then the embedding models), /openai/v1/models (Codex),
 * /copilot/v1/models (Copilot, embedding models last), both OpenAI list shape
 * with the backend's own ids, and
 * /anthropic/v1/models (Claude, Anthropic list shape with its pagination).
 * The API key middleware in front of these prefixes sets c.var.apiKey.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { badRequest } from "../src/errors.ts";
import type { ProviderId } from "../src/model/providers.ts";
import { listedModelsForKey, modelsForKey, type OfferedModel } from "../src/registry/service.ts";
import { runtimeSlot } from "../src/runtime.ts";
import { embeddingModelsForKey, type EmbeddingOffer } from "../src/registry/embedding_models.ts";

const NO_EMBEDDINGS: readonly EmbeddingOffer[] = Object.freeze([]);

/** Release date as Unix seconds (0 when unknown), for `created`. */
function releaseMs(model: OfferedModel): number {
  const ms = Date.parse(`${model.facts.release_date}T00:00:00Z`);
  return Number.isFinite(ms) ? ms : 0;
}

function openAiList(
  models: readonly OfferedModel[],
  listed: boolean,
  embeddings: readonly EmbeddingOffer[],
) {
  return {
    object: "list",
    data: [
      ...models.map((m) => ({
        id: listed ? m.listedId : m.id,
        object: "model",
        created: Math.floor(releaseMs(m) / 1000),
        owned_by: m.provider,
      })),
      ...embeddings.map((m) => ({
        id: listed ? m.listedId : m.id,
        object: "model",
        created: 0,
        owned_by: m.provider,
      })),
    ],
  };
}

type OpenAiRoute = "all" | "codex" | "copilot";

/**
 * OpenAI-shape bodies by embedding model list, then model list:
 * embeddingModelsForKey and modelsForKey hand every request with the same
 * scope the same arrays while nothing changes, so each body is built once
 * per lists and route. Kept as bytes: Deno serves a byte body markedly
 * cheaper than a string of this size (measured by bench/auth_bench.ts).
 */
const OPENAI_BODIES = runtimeSlot(
  "routes.openAiModelBodies",
  () =>
    new WeakMap<
      readonly EmbeddingOffer[],
      WeakMap<readonly OfferedModel[], Map<OpenAiRoute, Uint8Array>>
    >(),
);
const encoder = new TextEncoder();

function openAiBody(
  deps: Deps,
  models: readonly OfferedModel[],
  route: OpenAiRoute,
  embeddings: readonly EmbeddingOffer[],
): Uint8Array {
  const byEmbeddings = deps.runtime.get(OPENAI_BODIES);
  let byModels = byEmbeddings.get(embeddings);
  if (!byModels) byEmbeddings.set(embeddings, byModels = new WeakMap());
  let bodies = byModels.get(models);
  if (!bodies) byModels.set(models, bodies = new Map());
  let body = bodies.get(route);
  if (body === undefined) {
    const picked = route === "all" ? models : models.filter((m) => m.provider === route);
    const listed = route === "all";
    body = encoder.encode(JSON.stringify(openAiList(picked, listed, embeddings)));
    bodies.set(route, body);
  }
  return body;
}

/** A JSON response from bytes, with the content type c.json() sends. */
const jsonBytes = (c: Context<AppEnv>, body: Uint8Array) =>
  c.body(body as Uint8Array<ArrayBuffer>, 200, { "content-type": "application/json" });

const anthropicQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  after_id: z.string().min(1).optional(),
  before_id: z.string().min(1).optional(),
});

export function modelsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const of = async (key: AppEnv["Variables"]["apiKey"], provider: ProviderId) =>
    (await modelsForKey(deps, key)).filter((m) => m.provider === provider);
  // Only /v1/models adds the aliases; the provider routes list backend ids.
  // Embedding models are listed with Copilot's (all of them are Copilot's).
  const openAi = (route: OpenAiRoute) => async (c: Context<AppEnv>) => {
    const [models, embeddings] = await Promise.all([
      route === "all" ? listedModelsForKey(deps, c.var.apiKey) : modelsForKey(deps, c.var.apiKey),
      route === "codex" ? NO_EMBEDDINGS : embeddingModelsForKey(deps, c.var.apiKey),
    ]);
    return jsonBytes(c, openAiBody(deps, models, route, embeddings));
  };

  app.get("/v1/models", openAi("all"));
  app.get("/openai/v1/models", openAi("codex"));
  app.get("/copilot/v1/models", openAi("copilot"));

  app.get("/anthropic/v1/models", async (c) => {
    const parsed = anthropicQuery.safeParse(c.req.query());
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.join(".") ?? "query";
      throw badRequest("invalid_query", `The query parameter ${field} is not valid.`);
    }
    const { limit, after_id: afterId, before_id: beforeId } = parsed.data;
    const all = await of(c.var.apiKey, "claude");
    let start = 0;
    let end = all.length;
    if (afterId !== undefined) start = all.findIndex((m) => m.id === afterId) + 1;
    if (beforeId !== undefined) end = Math.max(0, all.findIndex((m) => m.id === beforeId));
    // Paging back from before_id takes the last `limit` before it, as Anthropic does.
    const page = beforeId !== undefined && afterId === undefined
      ? all.slice(Math.max(start, end - limit), end)
      : all.slice(start, Math.min(end, start + limit));
    const hasMore = beforeId !== undefined && afterId === undefined
      ? end - limit > start
      : start + limit < end;
    const body = {
      data: page.map((m) => ({
        type: "model",
        id: m.id,
        display_name: m.facts.name,
        created_at: new Date(releaseMs(m)).toISOString().replace(".000Z", "Z"),
      })),
      has_more: hasMore,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
    };
    return jsonBytes(c, encoder.encode(JSON.stringify(body)));
  });

  return app;
}

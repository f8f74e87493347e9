/**
 * Copilot's live model list (`GET {apiBase}/models`, docs/providers/copilot.md#model-list):
 * the request and the parsing of its answer. Which models an account may
 * use differs by plan and policy; caching per account is the registry's
 * job (src/registry/copilot_models.ts).
 */
import type { Deps } from "../../deps.ts";
import type { UpstreamCredentials } from "../../model/accounts.ts";
import { EXCHANGE_HEADERS } from "./constants.ts";
import { discardBody } from "../../body_drain.ts";

/** The fields Kleis keeps of one `/models` item. */
export interface CopilotLiveModel {
  id: string;
  name: string;
  vendor?: string;
  version?: string;
  preview?: boolean;
  supportedEndpoints?: string[];
  contextWindow?: number;
  maxOutput?: number;
  maxPrompt?: number;
  toolCalls?: boolean;
  vision?: boolean;
  reasoning?: boolean;
}

/** An embedding model of the `/models` list (`capabilities.type: "embeddings"`). */
export interface CopilotEmbeddingModel {
  id: string;
  name: string;
}

/** What Kleis keeps of one `/models` answer. */
export interface CopilotModelList {
  models: CopilotLiveModel[];
  embeddings: CopilotEmbeddingModel[];
}

/** The three upstream shapes a Copilot model can be called in. */
export type CopilotApiKind = "messages" | "responses" | "chat";

/**
 * How a model is best called. Live `supported_endpoints` decide when known
 * (Anthropic models via Messages, as Copilot's own clients do; Responses-only
 * models via Responses); otherwise the naming rule: Claude models take
 * Messages, GPT-5.x and Codex models only accept Responses.
 */
export function copilotApiKind(id: string, supportedEndpoints?: string[]): CopilotApiKind {
  if (supportedEndpoints && supportedEndpoints.length > 0) {
    if (supportedEndpoints.includes("/v1/messages")) return "messages";
    if (supportedEndpoints.includes("/chat/completions")) return "chat";
    if (supportedEndpoints.includes("/responses")) return "responses";
  }
  if (id.startsWith("claude-")) return "messages";
  if (/^gpt-5/.test(id) || id.includes("codex")) return "responses";
  return "chat";
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : undefined);
const bool = (v: unknown) => (typeof v === "boolean" ? v : undefined);

/** Parses a `/models` answer, keeping chat models whose policy is not disabled. */
export function parseCopilotModels(body: unknown): CopilotLiveModel[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new Error("the model list has no data array");
  const out: CopilotLiveModel[] = [];
  for (const raw of data) {
    const item = raw as Record<string, unknown>;
    if (typeof item?.id !== "string" || item.id === "") continue;
    const policy = item.policy as { state?: unknown } | undefined;
    if (policy?.state === "disabled") continue;
    const caps = (item.capabilities ?? {}) as Record<string, unknown>;
    if (caps.type !== undefined && caps.type !== "chat") continue;
    const limits = (caps.limits ?? {}) as Record<string, unknown>;
    const supports = (caps.supports ?? {}) as Record<string, unknown>;
    const endpoints = Array.isArray(item.supported_endpoints)
      ? item.supported_endpoints.filter((e): e is string => typeof e === "string")
      : undefined;
    const reasoningEffort = supports.reasoning_effort;
    const model: CopilotLiveModel = {
      id: item.id,
      name: typeof item.name === "string" && item.name ? item.name : item.id,
    };
    if (typeof item.vendor === "string") model.vendor = item.vendor;
    if (typeof item.version === "string") model.version = item.version;
    if (typeof item.preview === "boolean") model.preview = item.preview;
    if (endpoints) model.supportedEndpoints = endpoints;
    const context = num(limits.max_context_window_tokens);
    const output = num(limits.max_output_tokens);
    const prompt = num(limits.max_prompt_tokens);
    if (context !== undefined) model.contextWindow = context;
    if (output !== undefined) model.maxOutput = output;
    if (prompt !== undefined) model.maxPrompt = prompt;
    const toolCalls = bool(supports.tool_calls);
    const vision = bool(supports.vision);
    if (toolCalls !== undefined) model.toolCalls = toolCalls;
    if (vision !== undefined) model.vision = vision;
    if (
      (Array.isArray(reasoningEffort) && reasoningEffort.length > 0) ||
      supports.adaptive_thinking === true || num(supports.max_thinking_budget) !== undefined
    ) model.reasoning = true;
    out.push(model);
  }
  return out;
}

/** The embedding models of a `/models` answer whose policy is not disabled. */
export function parseCopilotEmbeddingModels(body: unknown): CopilotEmbeddingModel[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return [];
  const out: CopilotEmbeddingModel[] = [];
  for (const raw of data) {
    const item = raw as Record<string, unknown>;
    if (typeof item?.id !== "string" || item.id === "") continue;
    if ((item.policy as { state?: unknown } | undefined)?.state === "disabled") continue;
    if ((item.capabilities as { type?: unknown } | undefined)?.type !== "embeddings") continue;
    out.push({
      id: item.id,
      name: typeof item.name === "string" && item.name ? item.name : item.id,
    });
  }
  return out;
}

/** Asks Copilot for the model list with an account's credentials. Throws on any failure. */
export async function requestCopilotModels(
  deps: Pick<Deps, "fetch" | "config">,
  credentials: UpstreamCredentials,
  timeoutMs: number,
): Promise<CopilotModelList> {
  const base = (credentials.apiBase ?? deps.config.upstream.copilot).replace(/\/+$/, "");
  const res = await deps.fetch(`${base}/models`, {
    headers: {
      ...EXCHANGE_HEADERS,
      authorization: `Bearer ${credentials.accessToken}`,
      accept: "application/json",
    },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) {
    // Read to the end (bounded), so the connection can be reused.
    await discardBody(res);
    throw new Error(`Copilot answered ${res.status} to the model list request`);
  }
  const body = await res.json();
  return { models: parseCopilotModels(body), embeddings: parseCopilotEmbeddingModels(body) };
}

/**
 * Copilot's live model list (`GET {apiBase}/models`, providers.md §1.5), per
 * account: which models an account may use differs by plan and policy.
 *
 * Cached in KV per account. A fresh copy (under FRESH_MS) is used as is; a
 * stale one is used while a background fetch replaces it; with no copy, the
 * request path fetches with a short timeout and falls back to models.dev's
 * `github-copilot` list when that fails. The cron job refreshes every
 * enabled account's copy.
 */
import type { Deps } from "../../deps.ts";
import { keys } from "../../kv/keys.ts";
import type { AccountRecord } from "../../accounts/types.ts";
import { getUpstreamCredentials } from "../../accounts/credentials.ts";
import { EXCHANGE_HEADERS } from "./constants.ts";

export const FRESH_MS = 60 * 60_000;
/** KV cleanup only; staleness is judged from fetchedAt. */
const KEEP_MS = 7 * 24 * 60 * 60_000;
/** How long a request may wait for a first fetch of an account's list. */
export const REQUEST_FETCH_TIMEOUT_MS = 3_000;
const BACKGROUND_FETCH_TIMEOUT_MS = 15_000;
/** After a failed fetch, requests do not try again for this long (per process). */
const RETRY_AFTER_FAILURE_MS = 60_000;

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

export interface CopilotModelsCacheEntry {
  fetchedAt: number;
  models: CopilotLiveModel[];
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

/** Fetches one account's list now and caches it. Throws on any failure. */
export async function fetchCopilotModels(
  deps: Deps,
  account: AccountRecord,
  timeoutMs = BACKGROUND_FETCH_TIMEOUT_MS,
): Promise<CopilotModelsCacheEntry> {
  const credentials = await getUpstreamCredentials(deps, account);
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
    await res.body?.cancel();
    throw new Error(`Copilot answered ${res.status} to the model list request`);
  }
  const entry: CopilotModelsCacheEntry = {
    fetchedAt: deps.now(),
    models: parseCopilotModels(await res.json()),
  };
  await deps.kv.set(keys.copilotModelsCache(account.id), entry, { expireIn: KEEP_MS });
  return entry;
}

interface ProcessState {
  inflight: Map<string, Promise<CopilotModelsCacheEntry | undefined>>;
  failedAt: Map<string, number>;
}
const states = new WeakMap<Deno.Kv, ProcessState>();
function stateOf(kv: Deno.Kv): ProcessState {
  let state = states.get(kv);
  if (!state) states.set(kv, state = { inflight: new Map(), failedAt: new Map() });
  return state;
}

/** One fetch per account at a time in this process; failures are logged, never thrown. */
function fetchOnce(
  deps: Deps,
  account: AccountRecord,
  timeoutMs: number,
): Promise<CopilotModelsCacheEntry | undefined> {
  const state = stateOf(deps.kv);
  const running = state.inflight.get(account.id);
  if (running) return running;
  const promise = fetchCopilotModels(deps, account, timeoutMs)
    .then((entry) => {
      state.failedAt.delete(account.id);
      return entry;
    }, (error) => {
      state.failedAt.set(account.id, deps.now());
      deps.log.warn("Could not fetch the Copilot model list.", {
        accountId: account.id,
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    })
    .finally(() => state.inflight.delete(account.id));
  state.inflight.set(account.id, promise);
  return promise;
}

/**
 * An account's live models for a request: cached (fresh or stale), else one
 * short fetch; undefined when none can be had (the caller falls back).
 */
export async function copilotModelsForAccount(
  deps: Deps,
  account: AccountRecord,
): Promise<CopilotLiveModel[] | undefined> {
  const cached = (await deps.kv.get<CopilotModelsCacheEntry>(keys.copilotModelsCache(account.id)))
    .value;
  if (cached) {
    if (deps.now() - cached.fetchedAt >= FRESH_MS) {
      void fetchOnce(deps, account, BACKGROUND_FETCH_TIMEOUT_MS);
    }
    return cached.models;
  }
  const failedAt = stateOf(deps.kv).failedAt.get(account.id);
  if (failedAt !== undefined && deps.now() - failedAt < RETRY_AFTER_FAILURE_MS) return undefined;
  return (await fetchOnce(deps, account, REQUEST_FETCH_TIMEOUT_MS))?.models;
}

/** Waits for every fetch this process started (tests, and the cron job before it returns). */
export async function settleCopilotModelFetches(kv: Deno.Kv): Promise<void> {
  await Promise.all([...stateOf(kv).inflight.values()]);
}

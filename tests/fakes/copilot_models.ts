/** The model list of the Copilot fake (`GET /models`). */

export interface CopilotModel {
  id: string;
  name: string;
  vendor: string;
  preview: boolean;
  model_picker_enabled: boolean;
  supported_endpoints: string[];
  policy: { state: "enabled" | "disabled" | "unconfigured"; terms: string };
  capabilities: {
    family: string;
    type: "chat";
    tokenizer: string;
    limits: {
      max_context_window_tokens: number;
      max_output_tokens: number;
      max_prompt_tokens: number;
    };
    supports: {
      tool_calls: boolean;
      vision: boolean;
      streaming: boolean;
      /** The efforts a reasoning model takes (`reasoning_effort`, `reasoning.effort`). */
      reasoning_effort?: string[];
      /** Claude models: the thinking budgets they take. */
      max_thinking_budget?: number;
      min_thinking_budget?: number;
    };
  };
}

/** An embedding model as Copilot lists it: `capabilities.type: "embeddings"`, no endpoints. */
export interface CopilotEmbeddingModel {
  id: string;
  name: string;
  vendor: string;
  preview: boolean;
  model_picker_enabled: boolean;
  policy?: { state: "enabled" | "disabled" | "unconfigured"; terms: string };
  capabilities: {
    family: string;
    type: "embeddings";
    tokenizer: string;
    limits: { max_inputs: number };
    supports: { dimensions: boolean };
  };
  /** The fake's own: vector length without `dimensions`. */
  dimensions: number;
}

function model(
  id: string,
  name: string,
  vendor: string,
  endpoints: string[],
  limits: [number, number, number],
  extra: {
    preview?: boolean;
    disabled?: boolean;
    vision?: boolean;
    efforts?: string[];
    thinking?: boolean;
  } = {},
): CopilotModel {
  return {
    id,
    name,
    vendor,
    preview: extra.preview ?? false,
    model_picker_enabled: true,
    supported_endpoints: endpoints,
    policy: { state: extra.disabled ? "disabled" : "enabled", terms: `Enable access to ${name}.` },
    capabilities: {
      family: id,
      type: "chat",
      tokenizer: "o200k_base",
      limits: {
        max_context_window_tokens: limits[0],
        max_output_tokens: limits[1],
        max_prompt_tokens: limits[2],
      },
      supports: {
        tool_calls: true,
        vision: extra.vision ?? true,
        streaming: true,
        ...(extra.efforts ? { reasoning_effort: extra.efforts } : {}),
        ...(extra.thinking ? { max_thinking_budget: 32000, min_thinking_budget: 1024 } : {}),
      },
    },
  };
}

const CHAT = "/chat/completions";
const RESPONSES = "/responses";
const MESSAGES = "/v1/messages";

export const COPILOT_MODELS: CopilotModel[] = [
  model("gpt-4.1", "GPT-4.1", "Azure OpenAI", [CHAT, RESPONSES], [128000, 16384, 128000]),
  model("gpt-4o", "GPT-4o", "Azure OpenAI", [CHAT], [128000, 4096, 64000]),
  model("gpt-5.2", "GPT-5.2", "OpenAI", [RESPONSES], [400000, 128000, 272000], {
    efforts: ["low", "medium", "high", "xhigh"],
  }),
  model("gpt-5.2-codex", "GPT-5.2-Codex", "OpenAI", [RESPONSES], [400000, 128000, 272000], {
    efforts: ["low", "medium", "high", "xhigh"],
  }),
  model("gpt-5-mini", "GPT-5 mini", "Azure OpenAI", [RESPONSES], [264000, 64000, 128000], {
    efforts: ["minimal", "low", "medium", "high"],
  }),
  model("claude-sonnet-4.5", "Claude Sonnet 4.5", "Anthropic", [CHAT, MESSAGES], [
    200000,
    32000,
    128000,
  ], { thinking: true }),
  model("claude-haiku-4.5", "Claude Haiku 4.5", "Anthropic", [CHAT, MESSAGES], [
    200000,
    32000,
    128000,
  ], { thinking: true }),
  model("claude-opus-4.5", "Claude Opus 4.5", "Anthropic", [CHAT, MESSAGES], [
    200000,
    32000,
    128000,
  ], { preview: true, disabled: true }),
];

/** GPT-5.x and codex models only accept `/responses`. */
export function isResponsesOnly(id: string): boolean {
  return /^gpt-5/.test(id) || id.includes("codex");
}

function embeddingModel(
  id: string,
  name: string,
  dimensions: number,
  supportsDimensions: boolean,
): CopilotEmbeddingModel {
  return {
    id,
    name,
    vendor: "Azure OpenAI",
    preview: false,
    model_picker_enabled: false,
    capabilities: {
      family: id,
      type: "embeddings",
      tokenizer: "cl100k_base",
      limits: { max_inputs: 512 },
      supports: { dimensions: supportsDimensions },
    },
    dimensions,
  };
}

export const COPILOT_EMBEDDING_MODELS: CopilotEmbeddingModel[] = [
  embeddingModel("text-embedding-3-small", "Embedding V3 small", 1536, true),
  embeddingModel("text-embedding-ada-002", "Embedding V2 Ada", 1536, false),
];

/**
 * Copilot refuses a reasoning field the model does not take: an effort not
 * in its `reasoning_effort` list, thinking on a model without a thinking
 * budget, or a budget above its maximum. The message, or undefined.
 */
export function copilotReasoningError(
  model: CopilotModel,
  body: Record<string, unknown>,
): string | undefined {
  const supports = model.capabilities.supports;
  const reasoning = body["reasoning"] as { effort?: unknown } | undefined;
  const effort = body["reasoning_effort"] ?? reasoning?.effort;
  if (effort !== undefined && effort !== null) {
    if (!supports.reasoning_effort?.includes(String(effort))) {
      return `Reasoning effort '${String(effort)}' is not supported by model ${model.id}.`;
    }
  }
  const thinking = body["thinking"] as { type?: unknown; budget_tokens?: unknown } | undefined;
  if (thinking?.type === "enabled") {
    const max = supports.max_thinking_budget;
    if (max === undefined) return `Thinking is not supported by model ${model.id}.`;
    if (Number(thinking.budget_tokens) > max) {
      return `thinking.budget_tokens must be at most ${max} for model ${model.id}.`;
    }
  }
  return undefined;
}

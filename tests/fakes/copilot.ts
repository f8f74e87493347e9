/** Fake of `https://api.githubcopilot.com`: chat completions, responses, messages, models. */
import { deltas, estimateTokens, ProxyBackendFake, sampleArguments } from "./backend.ts";
import {
  COPILOT_EMBEDDING_MODELS,
  COPILOT_MODELS,
  type CopilotEmbeddingModel,
  type CopilotModel,
  copilotReasoningError,
  isResponsesOnly,
} from "./copilot_models.ts";
import { anthropicError, messageEvents, messageJson, messagesReply } from "./messages_reply.ts";
import { responseObject, responsesEvents, responsesReply } from "./responses_reply.ts";
import { bearer, jsonObject, type RecordedRequest } from "./server.ts";
import { type SseEvent, sseEvent } from "./sse.ts";
import { checkChatBody, checkMessagesBody, checkResponsesBody } from "./strict_shapes.ts";
import { type FakeWorld, type GithubIdentity, randomId } from "./world.ts";

const PATHS = {
  chat: "/chat/completions",
  responses: "/responses",
  messages: "/v1/messages",
  embeddings: "/embeddings",
};

function openaiError(status: number, code: string, message: string, param?: string): Response {
  const error: Record<string, unknown> = { message, code, type: "invalid_request_error" };
  if (param) error["param"] = param;
  return Response.json({ error }, { status });
}

function lastUserText(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  const last = messages.findLast((m) => m?.role === "user");
  if (!last) return undefined;
  if (typeof last.content === "string") return last.content;
  return Array.isArray(last.content)
    ? last.content.map((p: { text?: unknown }) => typeof p?.text === "string" ? p.text : "")
      .join("\n")
    : "";
}

export class FakeCopilot extends ProxyBackendFake {
  protected readonly proxiedPaths = [
    PATHS.chat,
    PATHS.responses,
    PATHS.messages,
    PATHS.embeddings,
  ] as const;
  override reply = "Hello from fake Copilot";
  models: CopilotModel[] = structuredClone(COPILOT_MODELS);
  embeddingModels: CopilotEmbeddingModel[] = structuredClone(COPILOT_EMBEDDING_MODELS);
  /** Successful model requests sent with `X-Initiator: user` (billed as premium requests). */
  premiumRequests = 0;

  constructor(readonly world: FakeWorld) {
    super();
  }

  async init(): Promise<this> {
    await this.start();
    return this;
  }

  #auth(req: RecordedRequest): Response | GithubIdentity {
    const token = bearer(req) ?? "";
    const gh = this.world.github.checkAccess(token);
    if (gh.ok && gh.kind === "gho") return gh.identity;
    const exchanged = this.world.copilotApi.checkAccess(token);
    if (exchanged.ok) return exchanged.identity;
    const expired = !exchanged.ok && exchanged.reason === "expired";
    return openaiError(
      401,
      "unauthorized",
      expired ? "unauthorized: token expired" : "unauthorized: bad token",
    );
  }

  protected handle(req: RecordedRequest): Response {
    const who = this.#auth(req);
    if (who instanceof Response) return who;
    if (req.method === "GET" && req.path === "/models") {
      return this.json({
        object: "list",
        data: [
          ...this.models,
          ...this.embeddingModels.map(({ dimensions: _, ...listed }) => listed),
        ],
      });
    }
    const path = req.path;
    if (req.method !== "POST" || !(this.proxiedPaths as readonly string[]).includes(path)) {
      return openaiError(404, "not_found", "Not Found");
    }
    const initiator = req.headers["x-initiator"];
    if (initiator !== "user" && initiator !== "agent") {
      return openaiError(400, "bad_request", "X-Initiator header must be 'user' or 'agent'.");
    }
    if (!req.headers["openai-intent"]) {
      return openaiError(400, "bad_request", "Openai-Intent header is required.");
    }
    const body = jsonObject(req);
    if (path === PATHS.embeddings) return this.#embeddings(body);
    const id = body?.["model"];
    if (!body || typeof id !== "string") {
      return openaiError(400, "invalid_request_body", "Request body must be JSON with a model.");
    }
    const model = this.models.find((m) => m.id === id && m.policy.state !== "disabled");
    if (!model) {
      return path === PATHS.messages
        ? anthropicError("invalid_request_error", `model ${id} is not supported`, 400)
        : openaiError(400, "model_not_supported", "The requested model is not supported.", "model");
    }
    const endpoint = path === PATHS.chat && isResponsesOnly(id) ? undefined : path;
    if (!endpoint || !model.supported_endpoints.includes(endpoint)) {
      const message = `model ${id} is not accessible via the ${path} endpoint`;
      return path === PATHS.messages
        ? anthropicError("invalid_request_error", message, 400)
        : openaiError(400, "unsupported_api_for_model", message, "model");
    }
    if (/^gpt-5/.test(id) && "temperature" in body) {
      return openaiError(
        400,
        "unsupported_parameter",
        "Unsupported parameter: 'temperature' is not supported with this model.",
        "temperature",
      );
    }
    const shapeError = path === PATHS.messages
      ? checkMessagesBody(body)
      : path === PATHS.responses
      ? checkResponsesBody(body)
      : checkChatBody(body);
    if (shapeError) {
      return path === PATHS.messages
        ? anthropicError("invalid_request_error", shapeError, 400)
        : openaiError(400, "invalid_request_body", shapeError);
    }
    const reasoningError = copilotReasoningError(model, body);
    if (reasoningError) {
      return path === PATHS.messages
        ? anthropicError("invalid_request_error", reasoningError, 400)
        : openaiError(400, "invalid_reasoning_effort", reasoningError, "reasoning_effort");
    }
    if (initiator === "user") this.premiumRequests++;
    const stream = body["stream"] === true;
    if (path === PATHS.messages) {
      const reply = messagesReply(body, req.bodyText, this.reply, this.usage);
      return stream ? this.sse(messageEvents(reply)) : this.json(messageJson(reply));
    }
    if (path === PATHS.responses) {
      const reply = responsesReply(body, req.bodyText, this.reply, this.usage, this.world.now());
      return stream ? this.sse(responsesEvents(reply, true)) : this.json(responseObject(reply));
    }
    return this.#chat(body, req.bodyText, stream);
  }

  /**
   * `POST /embeddings`, as Copilot answers it: `input` must be an array (of
   * strings or token arrays), only `model`, `input`, `dimensions` and `user`
   * are known, chat models are refused, and the answer has `data` and `usage`
   * only. Vectors are float32 values derived from each input, so a test can
   * compute them.
   */
  #embeddings(body: Record<string, unknown> | undefined): Response {
    const bad = (message: string, param?: string) =>
      openaiError(400, "invalid_request_body", message, param);
    if (!body) return bad("Request body must be JSON.");
    const unknown = Object.keys(body).find((k) =>
      !["model", "input", "dimensions", "user"].includes(k)
    );
    if (unknown) return bad(`Unrecognized request argument supplied: ${unknown}`, unknown);
    const id = body["model"];
    const model = this.embeddingModels.find((m) => m.id === id && m.policy?.state !== "disabled");
    if (!model) {
      return openaiError(
        400,
        "model_not_supported",
        "The requested model is not supported.",
        "model",
      );
    }
    const input = body["input"];
    const isTokens = (v: unknown) =>
      Array.isArray(v) && v.length > 0 && v.every((t) => Number.isInteger(t) && t >= 0);
    if (
      !Array.isArray(input) || input.length === 0 ||
      input.length > model.capabilities.limits.max_inputs ||
      !input.every((i) => (typeof i === "string" && i !== "") || isTokens(i))
    ) {
      return bad("input must be a non-empty array of strings or token arrays.", "input");
    }
    const dimensions = body["dimensions"];
    if (dimensions !== undefined) {
      if (!model.capabilities.supports.dimensions) {
        return bad("This model does not support specifying dimensions.", "dimensions");
      }
      if (
        !Number.isInteger(dimensions) || (dimensions as number) < 1 ||
        (dimensions as number) > model.dimensions
      ) {
        return bad(`dimensions must be between 1 and ${model.dimensions}.`, "dimensions");
      }
    }
    if (body["user"] !== undefined && typeof body["user"] !== "string") {
      return bad("user must be a string.", "user");
    }
    const size = (dimensions as number | undefined) ?? model.dimensions;
    const data = (input as (string | number[])[]).map((item, index) => ({
      object: "embedding",
      index,
      embedding: fakeEmbedding(typeof item === "string" ? item : item.join(","), size),
    }));
    const prompt = this.usage.input_tokens ??
      (input as (string | number[])[]).reduce(
        (n, item) => n + (typeof item === "string" ? estimateTokens(item) : item.length),
        0,
      );
    return this.json({ data, usage: { prompt_tokens: prompt, total_tokens: prompt } });
  }

  #chat(body: Record<string, unknown>, bodyText: string, stream: boolean): Response {
    const tools = Array.isArray(body["tools"]) ? body["tools"] : [];
    const fn = tools[0]?.function as { name?: unknown; parameters?: unknown } | undefined;
    const tool =
      /use tool/i.test(lastUserText(body["messages"]) ?? "") && typeof fn?.name === "string"
        ? {
          id: `call_${randomId(10)}`,
          name: fn.name,
          arguments: JSON.stringify(sampleArguments(fn.parameters)),
        }
        : undefined;
    const prompt = this.usage.input_tokens ?? estimateTokens(bodyText);
    const completion = this.usage.output_tokens ?? deltas(this.reply).length + (tool ? 10 : 0);
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      prompt_tokens_details: { cached_tokens: this.usage.cache_read_input_tokens ?? 0 },
      completion_tokens_details: { reasoning_tokens: this.usage.reasoning_tokens ?? 0 },
    };
    const base = {
      id: `chatcmpl-${randomId(12)}`,
      created: Math.floor(this.world.now() / 1000),
      model: String(body["model"]),
    };
    const finish = tool ? "tool_calls" : "stop";
    const toolCall = tool && {
      id: tool.id,
      type: "function",
      function: { name: tool.name, arguments: tool.arguments },
    };
    if (!stream) {
      return this.json({
        ...base,
        object: "chat.completion",
        choices: [{
          index: 0,
          message: {
            role: "assistant",
            content: this.reply,
            ...(toolCall ? { tool_calls: [toolCall] } : {}),
          },
          finish_reason: finish,
        }],
        usage,
      });
    }
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
      sseEvent(undefined, {
        ...base,
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta, finish_reason: finishReason }],
      });
    const events: SseEvent[] = [chunk({ role: "assistant", content: "" })];
    for (const piece of deltas(this.reply)) events.push(chunk({ content: piece }));
    if (tool) {
      events.push(chunk({
        tool_calls: [{
          index: 0,
          id: tool.id,
          type: "function",
          function: { name: tool.name, arguments: "" },
        }],
      }));
      const cut = Math.ceil(tool.arguments.length / 3);
      for (let at = 0; at < tool.arguments.length; at += cut) {
        events.push(chunk({
          tool_calls: [{ index: 0, function: { arguments: tool.arguments.slice(at, at + cut) } }],
        }));
      }
    }
    const includeUsage = (body["stream_options"] as { include_usage?: unknown } | undefined)
      ?.include_usage === true;
    events.push(sseEvent(undefined, {
      ...base,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: {}, finish_reason: finish }],
      ...(includeUsage ? { usage } : {}),
    }));
    events.push({ data: "[DONE]" });
    return this.sse(events);
  }
}

/**
 * The fake's vector for a text: float32 values in [-1, 1) from a hash of the
 * text and the position, so tests can compute what an input gets.
 */
export function fakeEmbedding(text: string, size: number): number[] {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  const out: number[] = [];
  for (let i = 0; i < size; i++) {
    h = Math.imul(h ^ (i + 1), 2246822519) >>> 0;
    out.push(Math.fround((h % 20000) / 10000 - 1));
  }
  return out;
}

export async function startFakeCopilot(world: FakeWorld): Promise<FakeCopilot> {
  return await new FakeCopilot(world).init();
}

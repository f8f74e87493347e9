/**
 * Proxy side of the Codex adapter: POST /openai/v1/responses →
 * {chatgpt}/backend-api/codex/responses (docs/providers/codex.md#upstream-api).
 */
import type { SseEvent } from "../../sse.ts";
import type {
  AttemptContext,
  ClientCall,
  CollectedAnswer,
  PreparedCall,
  ProxyAdapter,
  UpstreamRequest,
} from "../proxy_types.ts";
import { isObject, type JsonObject, parseJsonObject } from "../../json.ts";
import {
  CODEX_MODEL_PREFIXES,
  CODEX_ORIGINATOR,
  CODEX_RESPONSES_PATH,
  CODEX_USER_AGENT,
} from "./constants.ts";
import { classifyCodexFailure, parseCodexQuotaHeaders } from "./errors.ts";
import { codexSession, derivedPromptCacheKey, rewriteCodexBody } from "./request_rewrite.ts";

/**
 * For a client that asked for JSON: the final response object of the stream
 * (response.completed / response.incomplete), or an OpenAI-shaped error when
 * the response failed.
 */
export function collectResponsesAnswer(event: SseEvent): CollectedAnswer | undefined {
  const data = event.data;
  if (data === null || data.indexOf('"type"') < 0) return undefined;
  const quick = /"type"\s*:\s*"(response\.completed|response\.incomplete|response\.failed|error)"/
    .exec(data);
  if (!quick) return undefined;
  const parsed = parseJsonObject(data);
  if (!parsed) return undefined;
  const type = parsed["type"];
  const response = isObject(parsed["response"]) ? parsed["response"] : undefined;
  if ((type === "response.completed" || type === "response.incomplete") && response) {
    return { status: 200, body: response };
  }
  if (type === "response.failed" || type === "error") {
    const err = isObject(response?.["error"]) ? response["error"] as JsonObject : parsed;
    const message = typeof err["message"] === "string"
      ? err["message"]
      : "The Codex backend failed to produce a response.";
    const code = typeof err["code"] === "string" ? err["code"] : "response_failed";
    return { status: 502, body: { error: { message, type: "server_error", code } } };
  }
  return undefined;
}

function prepare(call: ClientCall): PreparedCall {
  const clientStream = call.body["stream"] === true;
  const session = codexSession(call.body, call.headers);
  const rewritten = rewriteCodexBody(call.body, call.model);
  return {
    model: call.model,
    clientStream,
    shape: "responses",
    ...(session === undefined ? {} : { session }),
    ...(clientStream ? {} : { collect: collectResponsesAnswer }),
    async build(attempt: AttemptContext): Promise<UpstreamRequest> {
      const headers = new Headers({
        "authorization": `Bearer ${attempt.credentials.accessToken}`,
        "chatgpt-account-id": attempt.account.externalId,
        "originator": CODEX_ORIGINATOR,
        "user-agent": CODEX_USER_AGENT,
        "accept": "text/event-stream",
        "content-type": "application/json",
      });
      let body = rewritten;
      if (session !== undefined) {
        const key = await derivedPromptCacheKey(call.keyId, attempt.account.id, session);
        body = { ...rewritten, prompt_cache_key: key };
        headers.set("session-id", key);
      } else if ("prompt_cache_key" in rewritten) {
        body = { ...rewritten };
        delete body["prompt_cache_key"];
      }
      return {
        url: `${attempt.upstream.chatgpt}${CODEX_RESPONSES_PATH}`,
        headers,
        body: JSON.stringify(body),
      };
    },
  };
}

export const codexProxy: ProxyAdapter = {
  provider: "codex",
  endpoints: ["/responses"],
  modelPrefixes: CODEX_MODEL_PREFIXES,
  errorStyle: () => "openai",
  prepare,
  classify: classifyCodexFailure,
  quota: parseCodexQuotaHeaders,
};

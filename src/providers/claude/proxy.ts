/**
 * Proxy side of the Claude adapter: POST /anthropic/v1/messages and
 * /anthropic/v1/messages/count_tokens → {anthropic}/v1/messages[/count_tokens]?beta=true
 * (docs/providers/claude.md#upstream-api).
 */
import type {
  AttemptContext,
  ClientCall,
  PreparedCall,
  ProxyAdapter,
  UpstreamRequest,
} from "../proxy_types.ts";
import { firstString, isObject } from "../../json.ts";
import { mergeCommaLists } from "../common/comma_lists.ts";
import {
  CLAUDE_CLI_USER_AGENT,
  CLAUDE_COUNT_TOKENS_PATH,
  CLAUDE_DEFAULT_VERSION,
  CLAUDE_MESSAGES_PATH,
  CLAUDE_MODEL_PREFIXES,
  CLAUDE_PROMPT_REWRITES,
  CLAUDE_REQUIRED_BETAS,
  type PromptRewrite,
} from "./constants.ts";
import { classifyClaudeFailure, parseClaudeQuotaHeaders } from "./errors.ts";
import { rewriteClaudeBody } from "./request_rewrite.ts";
import { buildToolNameMap, renameToolsUp, toolNameRewriter } from "./tool_names.ts";

/** The client's session for affinity: `metadata.user_id`, else OpenCode's header. */
export function claudeSession(body: Record<string, unknown>, headers: Headers) {
  const metadata = body["metadata"];
  return firstString(
    isObject(metadata) ? metadata["user_id"] : undefined,
    headers.get("x-session-affinity"),
  );
}

export interface ClaudeProxyOptions {
  /** Rewrites of system text on top of CLAUDE_PROMPT_REWRITES. */
  extraRewrites?: readonly PromptRewrite[];
}

export function createClaudeProxy(options: ClaudeProxyOptions = {}): ProxyAdapter {
  const rewrites = [...CLAUDE_PROMPT_REWRITES, ...(options.extraRewrites ?? [])];

  function prepare(call: ClientCall): PreparedCall {
    const countTokens = call.endpoint === "/messages/count_tokens";
    const clientStream = !countTokens && call.body["stream"] === true;
    const map = buildToolNameMap(call.body);
    const body = JSON.stringify(
      renameToolsUp(rewriteClaudeBody(call.body, call.model, rewrites), map),
    );
    const path = countTokens ? CLAUDE_COUNT_TOKENS_PATH : CLAUDE_MESSAGES_PATH;
    const betas = mergeCommaLists(
      CLAUDE_REQUIRED_BETAS.join(","),
      call.headers.get("anthropic-beta"),
    );
    const version = call.headers.get("anthropic-version") ?? CLAUDE_DEFAULT_VERSION;
    const accept = call.headers.get("accept") ??
      (clientStream ? "text/event-stream" : "application/json");
    const session = claudeSession(call.body, call.headers);
    return {
      model: call.model,
      clientStream,
      shape: countTokens ? "count_tokens" : "messages",
      ...(session === undefined ? {} : { session }),
      ...(map.down.size === 0 ? {} : { rewriter: toolNameRewriter(map) }),
      build(attempt: AttemptContext): Promise<UpstreamRequest> {
        return Promise.resolve({
          url: `${attempt.upstream.anthropic}${path}?beta=true`,
          headers: new Headers({
            "authorization": `Bearer ${attempt.credentials.accessToken}`,
            "anthropic-version": version,
            "anthropic-beta": betas,
            "user-agent": CLAUDE_CLI_USER_AGENT,
            "x-app": "cli",
            "anthropic-dangerous-direct-browser-access": "true",
            "content-type": "application/json",
            "accept": accept,
          }),
          body,
        });
      },
    };
  }

  return {
    provider: "claude",
    endpoints: ["/messages", "/messages/count_tokens"],
    modelPrefixes: CLAUDE_MODEL_PREFIXES,
    errorStyle: () => "anthropic",
    prepare,
    classify: classifyClaudeFailure,
    quota: parseClaudeQuotaHeaders,
  };
}

export const claudeProxy: ProxyAdapter = createClaudeProxy();

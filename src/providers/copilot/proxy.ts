/**
 * Proxy side of the Copilot adapter: /copilot/v1/{chat/completions,responses,messages,embeddings}
 * → {base}/chat/completions, /responses, /v1/messages, /embeddings
 * (docs/providers/copilot.md#upstream-api; embeddings: embeddings.ts).
 */
import type { ClientCall, PreparedCall, ProxyAdapter } from "../proxy_types.ts";
import { firstString, isObject } from "../../json.ts";
import { mergeCommaLists } from "../common/comma_lists.ts";
import {
  COPILOT_DEFAULT_ANTHROPIC_VERSION,
  COPILOT_MESSAGES_BETAS,
  COPILOT_MODEL_PREFIXES,
  COPILOT_OPENAI_INTENT,
  COPILOT_UPSTREAM_PATHS,
} from "./constants.ts";
import { classifyCopilotFailure } from "./errors.ts";
import { prepareEmbeddings } from "./embeddings.ts";
import { copilotUpstream } from "./upstream.ts";
import {
  type CopilotEndpoint,
  copilotHasImage,
  copilotInitiator,
  rewriteCopilotBody,
} from "./request_rewrite.ts";

function session(endpoint: CopilotEndpoint, call: ClientCall): string | undefined {
  const metadata = call.body["metadata"];
  return firstString(
    endpoint === "/responses" ? call.body["prompt_cache_key"] : undefined,
    endpoint === "/messages" && isObject(metadata) ? metadata["user_id"] : undefined,
    call.headers.get("x-session-affinity"),
  );
}

function prepare(call: ClientCall): PreparedCall {
  if (call.endpoint === "/embeddings") return prepareEmbeddings(call);
  const endpoint = call.endpoint as CopilotEndpoint;
  const path = COPILOT_UPSTREAM_PATHS[endpoint]!;
  const rewritten = rewriteCopilotBody(endpoint, call.body, call.model);
  // Agent conversations are large: skip re-serialising a body nothing changed.
  const body = rewritten === undefined ? call.rawBody : JSON.stringify(rewritten);
  const clientStream = call.body["stream"] === true;
  const headers: Record<string, string> = {
    "openai-intent": COPILOT_OPENAI_INTENT,
    "x-initiator": copilotInitiator(endpoint, call.body),
    "content-type": "application/json",
    "accept": call.headers.get("accept") ??
      (clientStream ? "text/event-stream" : "application/json"),
  };
  if (copilotHasImage(endpoint, call.body)) headers["copilot-vision-request"] = "true";
  const userAgent = call.headers.get("user-agent");
  if (userAgent) headers["user-agent"] = userAgent;
  if (endpoint === "/messages") {
    headers["anthropic-version"] = call.headers.get("anthropic-version") ??
      COPILOT_DEFAULT_ANTHROPIC_VERSION;
    headers["anthropic-beta"] = mergeCommaLists(
      COPILOT_MESSAGES_BETAS.join(","),
      call.headers.get("anthropic-beta"),
    );
  }
  const s = session(endpoint, call);
  return {
    model: call.model,
    clientStream,
    shape: endpoint === "/chat/completions"
      ? "chat"
      : endpoint === "/responses"
      ? "responses"
      : "messages",
    ...(s === undefined ? {} : { session: s }),
    build: copilotUpstream(path, headers, body),
  };
}

export const copilotProxy: ProxyAdapter = {
  provider: "copilot",
  endpoints: ["/chat/completions", "/responses", "/messages", "/embeddings"],
  modelPrefixes: COPILOT_MODEL_PREFIXES,
  errorStyle: (endpoint) => endpoint === "/messages" ? "anthropic" : "openai",
  prepare,
  classify: classifyCopilotFailure,
  quota: () => undefined,
};

/**
 * Copilot's billing and capability headers and body rules
 * (docs/providers/copilot.md#headers-kleis-sends): X-Initiator decides whether a
 * turn costs a premium request, Copilot-Vision-Request must accompany images,
 * streaming chat asks for usage.
 */
import { containsType, isObject, type JsonObject } from "../../json.ts";
import { COPILOT_NO_TEMPERATURE } from "./constants.ts";

export type CopilotEndpoint = "/chat/completions" | "/responses" | "/messages";

function last(list: unknown): unknown {
  return Array.isArray(list) ? list[list.length - 1] : undefined;
}

/**
 * `user` only when the last message / input item is the user's (and, in the
 * messages shape, holds something other than tool results); else `agent`.
 */
export function copilotInitiator(endpoint: CopilotEndpoint, body: JsonObject): "user" | "agent" {
  if (endpoint === "/chat/completions") {
    const m = last(body["messages"]);
    return isObject(m) && m["role"] === "user" ? "user" : "agent";
  }
  if (endpoint === "/responses") {
    const input = body["input"];
    if (typeof input === "string") return "user";
    const item = last(input);
    return isObject(item) && item["role"] === "user" ? "user" : "agent";
  }
  const m = last(body["messages"]);
  if (!isObject(m) || m["role"] !== "user") return "agent";
  const content = m["content"];
  if (typeof content === "string") return "user";
  if (!Array.isArray(content)) return "agent";
  return content.some((part) => !(isObject(part) && part["type"] === "tool_result"))
    ? "user"
    : "agent";
}

const IMAGE_TYPES: Record<CopilotEndpoint, ReadonlySet<string>> = {
  "/chat/completions": new Set(["image_url"]),
  "/responses": new Set(["input_image"]),
  "/messages": new Set(["image"]),
};

/** True when the conversation carries an image (tool results included). */
export function copilotHasImage(endpoint: CopilotEndpoint, body: JsonObject): boolean {
  const conversation = endpoint === "/responses" ? body["input"] : body["messages"];
  return containsType(conversation, IMAGE_TYPES[endpoint]);
}

/** The body to send, or undefined when the client's body can go out unchanged. */
export function rewriteCopilotBody(
  endpoint: CopilotEndpoint,
  body: JsonObject,
  model: string,
): JsonObject | undefined {
  const dropTemperature = COPILOT_NO_TEMPERATURE.test(model) && "temperature" in body;
  const options = isObject(body["stream_options"]) ? body["stream_options"] : {};
  const addUsage = endpoint === "/chat/completions" && body["stream"] === true &&
    options["include_usage"] !== true;
  if (body["model"] === model && !dropTemperature && !addUsage) return undefined;
  const out: JsonObject = { ...body, model };
  if (dropTemperature) delete out["temperature"];
  if (addUsage) out["stream_options"] = { ...options, include_usage: true };
  return out;
}

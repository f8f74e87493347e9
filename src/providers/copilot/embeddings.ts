/**
 * Copilot's embeddings (docs/providers/copilot.md#embeddings):
 * /copilot/v1/embeddings and /v1/embeddings → `POST {base}/embeddings`.
 *
 * Clients speak the OpenAI embeddings API: `{model, input, encoding_format?,
 * dimensions?, user?}` where input is a string, an array of strings, a
 * token array or an array of token arrays. Copilot takes `input` as an
 * array only and floats only, so Kleis checks the body, sends every input as
 * an array and never `encoding_format`, and encodes the answer's vectors as
 * base64 (little-endian float32, as OpenAI does) when the client asked for
 * it; the OpenAI SDK asks for base64 by default and decodes it. The answer
 * gets `object: "list"` and `model` where Copilot leaves them out.
 */
import { badRequest } from "../../errors.ts";
import { isObject, type JsonObject } from "../../json.ts";
import type { AnswerRewriter, ClientCall, PreparedCall } from "../proxy_types.ts";
import { COPILOT_OPENAI_INTENT, COPILOT_UPSTREAM_PATHS } from "./constants.ts";
import { copilotUpstream } from "./upstream.ts";

const FIELDS = new Set(["model", "input", "encoding_format", "dimensions", "user"]);
/** OpenAI's limit of inputs per request. */
export const MAX_EMBEDDING_INPUTS = 2048;

const invalid = (field: string, rule: string) =>
  badRequest("invalid_request", `"${field}" ${rule}`);

const isTokenArray = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((t) => Number.isInteger(t) && t >= 0);

/** The inputs as the array Copilot takes, or a 400 naming what is wrong. */
function inputList(input: unknown): string[] | number[][] {
  const rule = "must be a non-empty string, an array of them, a token array or an array of those.";
  if (input === undefined) throw badRequest("invalid_request", `The request body has no "input".`);
  if (typeof input === "string") {
    if (input === "") throw invalid("input", rule);
    return [input];
  }
  if (!Array.isArray(input) || input.length === 0) throw invalid("input", rule);
  if (input.length > MAX_EMBEDDING_INPUTS) {
    throw invalid("input", `holds more than ${MAX_EMBEDDING_INPUTS} inputs.`);
  }
  if (input.every((s) => typeof s === "string" && s !== "")) return input as string[];
  if (isTokenArray(input)) return [input];
  if (input.every(isTokenArray)) return input as number[][];
  throw invalid("input", rule);
}

/** The upstream body and whether the client wants base64; a 400 for a body Copilot would refuse. */
export function checkEmbeddingsBody(
  body: JsonObject,
  model: string,
): { upstream: JsonObject; base64: boolean } {
  for (const field of Object.keys(body)) {
    if (!FIELDS.has(field)) {
      throw badRequest("unsupported_field", `"${field}" is not a field of an embeddings request.`);
    }
  }
  const upstream: JsonObject = { model, input: inputList(body["input"]) };
  const format = body["encoding_format"];
  if (format !== undefined && format !== "float" && format !== "base64") {
    throw invalid("encoding_format", `must be "float" or "base64".`);
  }
  const dimensions = body["dimensions"];
  if (dimensions !== undefined) {
    if (!Number.isInteger(dimensions) || (dimensions as number) < 1) {
      throw invalid("dimensions", "must be a positive whole number.");
    }
    upstream["dimensions"] = dimensions;
  }
  const user = body["user"];
  if (user !== undefined) {
    if (typeof user !== "string") throw invalid("user", "must be a string.");
    upstream["user"] = user;
  }
  return { upstream, base64: format === "base64" };
}

/** A vector as OpenAI's base64: little-endian float32. */
export function floatsToBase64(values: readonly number[]): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  const bytes = new Uint8Array(view.buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function rewriter(model: string, base64: boolean): AnswerRewriter {
  return {
    event: () => undefined,
    json(answer) {
      if (!isObject(answer) || !Array.isArray(answer["data"])) return undefined;
      if (!base64 && answer["object"] === "list" && typeof answer["model"] === "string") {
        return undefined;
      }
      const data = base64
        ? answer["data"].map((item) =>
          isObject(item) && Array.isArray(item["embedding"])
            ? { ...item, embedding: floatsToBase64(item["embedding"] as number[]) }
            : item
        )
        : answer["data"];
      return { object: "list", ...answer, data, model: answer["model"] ?? model };
    },
  };
}

export function prepareEmbeddings(call: ClientCall): PreparedCall {
  const { upstream, base64 } = checkEmbeddingsBody(call.body, call.model);
  const headers: Record<string, string> = {
    "openai-intent": COPILOT_OPENAI_INTENT,
    // Never a user's chat turn: not billed as a premium request.
    "x-initiator": "agent",
    "content-type": "application/json",
    "accept": "application/json",
  };
  const userAgent = call.headers.get("user-agent");
  if (userAgent) headers["user-agent"] = userAgent;
  return {
    model: call.model,
    clientStream: false,
    // The answer's usage is read like a chat completion's (`prompt_tokens`).
    shape: "chat",
    rewriter: rewriter(call.model, base64),
    build: copilotUpstream(
      COPILOT_UPSTREAM_PATHS["/embeddings"]!,
      headers,
      JSON.stringify(upstream),
    ),
  };
}

/** Reading loosely typed JSON in the translators: small accessors that never throw. */
import { isObject, type JsonObject } from "../json.ts";
import { badRequest } from "../errors.ts";

export type { JsonObject };
export { isObject };

export const obj = (v: unknown): JsonObject | undefined => isObject(v) ? v : undefined;
export const str = (v: unknown): string | undefined => typeof v === "string" ? v : undefined;
export const arr = (v: unknown): unknown[] => Array.isArray(v) ? v : [];
export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}
export const count = (v: unknown): number => {
  const n = num(v);
  return n !== undefined && n > 0 ? n : 0;
};

/** A field that must be an object when present. */
export function expectObject(v: unknown, field: string): JsonObject {
  if (!isObject(v)) throw badRequest("invalid_request", `"${field}" must be an object.`);
  return v;
}

export function expectString(v: unknown, field: string): string {
  if (typeof v !== "string") throw badRequest("invalid_request", `"${field}" must be a string.`);
  return v;
}

/** `data:<media type>;base64,<data>` split in its parts, or undefined for other URLs. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return match ? { mediaType: match[1]!, data: match[2]! } : undefined;
}

/** Parses tool arguments (JSON text) into the object Anthropic wants. */
export function parseArguments(text: string, field: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  try {
    const value = JSON.parse(text);
    if (isObject(value)) return value;
  } catch {
    // reported below
  }
  throw badRequest("invalid_request", `"${field}" must be a JSON object text.`);
}

/** A short unique id with a prefix ("chatcmpl-", "msg_"), for answers a backend did not name. */
export function newId(prefix: string): string {
  return prefix + crypto.randomUUID().replaceAll("-", "").slice(0, 24);
}

/** Text parts joined with blank lines (how several system texts become one). */
export function joinTexts(texts: readonly string[]): string {
  return texts.filter((t) => t !== "").join("\n\n");
}

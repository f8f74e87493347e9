/** Reading loosely typed JSON (request bodies, backend answers) without trusting its shape. */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function parseJsonObject(text: string): JsonObject | undefined {
  try {
    const value = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A number from a header or JSON value ("123", 123), or undefined. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** True when `value` holds an object with `type` in `types`, at any depth up to `maxDepth`. */
export function containsType(value: unknown, types: ReadonlySet<string>, maxDepth = 8): boolean {
  if (maxDepth < 0 || value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some((v) => containsType(v, types, maxDepth - 1));
  const type = (value as JsonObject)["type"];
  if (typeof type === "string" && types.has(type)) return true;
  for (const v of Object.values(value)) {
    if (v !== null && typeof v === "object" && containsType(v, types, maxDepth - 1)) return true;
  }
  return false;
}

/** The first string among the values, trimmed, if not empty. */
export function firstString(...values: unknown[]): string | undefined {
  for (const v of values) {
    if (typeof v === "string" && v.trim() !== "") return v.trim();
  }
  return undefined;
}

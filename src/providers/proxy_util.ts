/**
 * Small helpers shared by the proxy sides of the adapters: reading loosely
 * typed JSON, parsing reset hints of rate-limit answers, merging comma lists.
 */
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

/** Reads a unix time that may be in seconds or milliseconds; returns ms. */
export function unixToMs(value: unknown): number | undefined {
  const n = toNumber(value);
  if (n === undefined || n <= 0) return undefined;
  return n < 1e11 ? n * 1000 : n;
}

/** `Retry-After`: delta seconds or an HTTP date; returns ms since the epoch. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return now + Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : date;
}

const UNIT_MS: Record<string, number> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/**
 * Waits written in prose: "Please try again in 58 hours.", "Please wait 5 minutes",
 * "try again in 1 hour and 30 minutes", "retry after 20s". Returns ms since the epoch.
 */
export function parseWaitFromText(text: string, now: number): number | undefined {
  const lead = /(?:try again in|wait|retry after|retry in|resets? in)\s+/i.exec(text);
  if (!lead) return undefined;
  const rest = text.slice(lead.index + lead[0].length, lead.index + lead[0].length + 80);
  const part =
    /(\d+(?:\.\d+)?)\s*(seconds?|secs?|s\b|minutes?|mins?|m\b|hours?|hrs?|h\b|days?|d\b)/gi;
  let total = 0;
  let found = false;
  let match: RegExpExecArray | null;
  let expectAt = 0;
  while ((match = part.exec(rest)) !== null) {
    // Only consecutive parts ("1 hour and 30 minutes"), not numbers later in the sentence.
    const between = rest.slice(expectAt, match.index);
    if (found && !/^[\s,]*(and)?[\s,]*$/i.test(between)) break;
    if (!found && between.trim() !== "") break;
    const unit = match[2]!.toLowerCase();
    const key = unit.startsWith("s")
      ? "second"
      : unit.startsWith("m")
      ? "minute"
      : unit.startsWith("h")
      ? "hour"
      : "day";
    total += Number(match[1]) * UNIT_MS[key]!;
    found = true;
    expectAt = match.index + match[0].length;
  }
  return found ? now + Math.ceil(total) : undefined;
}

/** Joins comma lists, keeping the first occurrence of each entry, in order. */
export function mergeCommaLists(...lists: (string | null | undefined)[]): string {
  const seen = new Set<string>();
  for (const list of lists) {
    for (const item of (list ?? "").split(",")) {
      const trimmed = item.trim();
      if (trimmed !== "") seen.add(trimmed);
    }
  }
  return [...seen].join(",");
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

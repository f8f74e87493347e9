/**
 * When a rate-limited backend says it can be used again: reset times in
 * headers (unix seconds or ms), `Retry-After`, and waits written in prose.
 */
import { toNumber } from "../../json.ts";

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

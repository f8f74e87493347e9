/**
 * What Copilot answers mean for an account (docs/providers/copilot.md#errors-and-exhaustion).
 *
 * Kleis: both exhaustion signals cool one model, not the whole account. A 402
 * `quota_exceeded` means the premium allowance is spent, and models that cost
 * no premium requests keep working; Copilot's 429s are rate limits of the
 * model that was asked for. A 402 lasts until the monthly reset (the 1st of
 * the month, 00:00 UTC); a 429 until the wait its message names.
 */
import type { FailureVerdict } from "../proxy_types.ts";
import { isObject, parseJsonObject } from "../../json.ts";
import { parseRetryAfter, parseWaitFromText } from "../common/reset_hints.ts";
import { COPILOT_DEFAULT_COOLDOWN_MS } from "./constants.ts";

/** 00:00 UTC on the 1st of the month after `now`. */
export function nextMonthlyReset(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function errorMessage(body: string): string {
  const parsed = parseJsonObject(body);
  const error = parsed?.["error"];
  if (isObject(error) && typeof error["message"] === "string") return error["message"];
  if (typeof parsed?.["message"] === "string") return parsed["message"];
  return body.slice(0, 2000);
}

export function classifyCopilotFailure(
  status: number,
  headers: Headers,
  body: string,
  model: string,
  now: number,
): FailureVerdict {
  if (status === 401) return { action: "refresh" };
  if (status === 402) {
    return { action: "cooldown", model, until: nextMonthlyReset(now), reason: "quota_exceeded" };
  }
  if (status !== 429) return { action: "pass" };
  const until = parseWaitFromText(errorMessage(body), now) ??
    parseRetryAfter(headers.get("retry-after"), now) ??
    now + COPILOT_DEFAULT_COOLDOWN_MS;
  return { action: "cooldown", model, until: Math.max(until, now + 1000), reason: "rate_limited" };
}

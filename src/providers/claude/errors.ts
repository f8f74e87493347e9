/**
 * What Claude answers mean for an account
 * (docs/providers/claude.md#errors-and-exhaustion). The unified
 * 5-hour and 7-day windows belong to the whole subscription, so a 429 cools
 * the account for every model. A 400 (the prompt classifier's "out of extra
 * usage" included), a 403 policy block and 529 overloaded pass through.
 */
import type { FailureVerdict } from "../proxy_types.ts";
import type { QuotaReading, QuotaWindow } from "../../model/quota.ts";
import { parseRetryAfter, unixToMs } from "../common/reset_hints.ts";
import { toNumber } from "../../json.ts";
import { CLAUDE_DEFAULT_COOLDOWN_MS } from "./constants.ts";

const PREFIX = "anthropic-ratelimit-unified-";
const WINDOWS = ["5h", "7d"] as const;

/** Quota headroom from the unified rate-limit headers any Claude answer carries. */
export function parseClaudeQuotaHeaders(headers: Headers, _now: number): QuotaReading | undefined {
  const windows: QuotaWindow[] = [];
  for (const w of WINDOWS) {
    const used = toNumber(headers.get(`${PREFIX}${w}-utilization`));
    if (used === undefined) continue;
    const resetsAt = unixToMs(headers.get(`${PREFIX}${w}-reset`));
    windows.push({
      name: w,
      usedFraction: Math.min(1, Math.max(0, used)),
      ...(resetsAt === undefined ? {} : { resetsAt }),
    });
  }
  if (windows.length === 0) return undefined;
  const raw: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.startsWith(PREFIX)) raw[name] = value;
  });
  return { windows, headers: raw };
}

/** The latest reset among rejected windows. */
function rejectedWindowReset(headers: Headers): number | undefined {
  let latest: number | undefined;
  for (const w of WINDOWS) {
    if (headers.get(`${PREFIX}${w}-status`) !== "rejected") continue;
    const reset = unixToMs(headers.get(`${PREFIX}${w}-reset`));
    if (reset !== undefined) latest = latest === undefined ? reset : Math.max(latest, reset);
  }
  return latest;
}

export function classifyClaudeFailure(
  status: number,
  headers: Headers,
  _body: string,
  _model: string,
  now: number,
): FailureVerdict {
  if (status === 401) return { action: "refresh" };
  if (status !== 429) return { action: "pass" };
  const rejected = headers.get(`${PREFIX}status`) === "rejected" ||
    WINDOWS.some((w) => headers.get(`${PREFIX}${w}-status`) === "rejected");
  const retryAfter = parseRetryAfter(headers.get("retry-after"), now);
  // A rejected subscription window lasts until its reset; any other 429 is a
  // short rate limit, where the unified reset (hours away) would be too long.
  const until = rejected
    ? unixToMs(headers.get(`${PREFIX}reset`)) ?? retryAfter ?? rejectedWindowReset(headers)
    : retryAfter;
  return {
    action: "cooldown",
    model: "*",
    until: Math.max(until ?? now + CLAUDE_DEFAULT_COOLDOWN_MS, now + 1000),
    reason: rejected ? "usage_limit_reached" : "rate_limited",
  };
}

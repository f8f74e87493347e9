/**
 * What Codex answers mean for an account (docs/providers/codex.md#errors-and-exhaustion): a 429
 * `usage_limit_reached` exhausts the whole account (the 5-hour and weekly
 * windows are per ChatGPT account, not per model) until `resets_at`; the
 * x-codex-* headers give quota headroom on every answer.
 */
import type { FailureVerdict } from "../proxy_types.ts";
import type { QuotaReading, QuotaWindow } from "../../model/quota.ts";
import { isObject, parseJsonObject, toNumber } from "../../json.ts";
import { parseRetryAfter, unixToMs } from "../common/reset_hints.ts";
import { CODEX_DEFAULT_COOLDOWN_MS } from "./constants.ts";

const WINDOWS = ["primary", "secondary"] as const;

function windowName(minutes: number | undefined, fallback: string): string {
  if (minutes === undefined) return fallback;
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

/** Quota headroom from the x-codex-* headers any Codex answer carries. */
export function parseCodexQuotaHeaders(headers: Headers, _now: number): QuotaReading | undefined {
  const windows: QuotaWindow[] = [];
  const raw: Record<string, string> = {};
  for (const w of WINDOWS) {
    const used = toNumber(headers.get(`x-codex-${w}-used-percent`));
    if (used === undefined) continue;
    const minutes = toNumber(headers.get(`x-codex-${w}-window-minutes`));
    const resetsAt = unixToMs(headers.get(`x-codex-${w}-reset-at`));
    windows.push({
      name: windowName(minutes, w),
      usedFraction: Math.min(1, Math.max(0, used / 100)),
      ...(resetsAt === undefined ? {} : { resetsAt }),
    });
  }
  if (windows.length === 0) return undefined;
  headers.forEach((value, name) => {
    if (name.startsWith("x-codex-")) raw[name] = value;
  });
  return { windows, headers: raw };
}

/** The latest reset among exhausted windows (used ≥ 100 %), from the headers. */
function exhaustedWindowReset(headers: Headers): number | undefined {
  let latest: number | undefined;
  for (const w of WINDOWS) {
    const used = toNumber(headers.get(`x-codex-${w}-used-percent`));
    const reset = unixToMs(headers.get(`x-codex-${w}-reset-at`));
    if (used !== undefined && used >= 100 && reset !== undefined) {
      latest = latest === undefined ? reset : Math.max(latest, reset);
    }
  }
  return latest;
}

export function classifyCodexFailure(
  status: number,
  headers: Headers,
  body: string,
  _model: string,
  now: number,
): FailureVerdict {
  if (status === 401) return { action: "refresh" };
  if (status !== 429) return { action: "pass" };
  const parsed = parseJsonObject(body);
  const error = isObject(parsed?.["error"]) ? parsed["error"] as Record<string, unknown> : {};
  const resetsIn = toNumber(error["resets_in_seconds"]);
  const until = unixToMs(error["resets_at"]) ??
    (resetsIn === undefined ? undefined : now + resetsIn * 1000) ??
    parseRetryAfter(headers.get("retry-after"), now) ??
    exhaustedWindowReset(headers) ??
    now + CODEX_DEFAULT_COOLDOWN_MS;
  const reason = typeof error["type"] === "string"
    ? error["type"]
    : typeof error["code"] === "string"
    ? error["code"]
    : "rate_limited";
  return { action: "cooldown", model: "*", until: Math.max(until, now + 1000), reason };
}

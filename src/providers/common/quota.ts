/**
 * What the three quota views share: fetching the provider's usage document
 * (a refusal is a ProviderAuthError, permanent on 401) and normalising its
 * windows to `{ name, usedFraction 0..1, resetsAt? }`.
 */
import type { Deps } from "../../deps.ts";
import type { ProviderQuota, QuotaWindow } from "../../model/quota.ts";
import { ProviderAuthError } from "./errors.ts";
import { callProvider, readJsonObject, str } from "./http.ts";

/**
 * GETs a quota endpoint's JSON object. A non-2xx or non-JSON answer throws;
 * the error code is `<codePrefix>_<status>` and the message names `what`.
 */
export async function fetchQuotaDocument(
  deps: Pick<Deps, "fetch">,
  url: string,
  headers: Record<string, string>,
  what: string,
  codePrefix = "http",
): Promise<Record<string, unknown>> {
  const res = await callProvider(deps, url, { headers });
  const body = await readJsonObject(res);
  if (!res.ok || !body) {
    throw new ProviderAuthError(
      res.status === 401,
      `${codePrefix}_${res.status}`,
      `${what} answered HTTP ${res.status}.`,
    );
  }
  return body;
}

/** A used fraction in 0..1, rounded to 4 places. */
export function clampFraction(x: number): number {
  return Math.min(1, Math.max(0, Math.round(x * 10_000) / 10_000));
}

/** A window; `usedFraction` is clamped, `resetsAt` (ms) kept only when known. */
export function quotaWindow(
  name: string,
  usedFraction: number,
  resetsAt: number | undefined,
): QuotaWindow {
  const window: QuotaWindow = { name, usedFraction: clampFraction(usedFraction) };
  if (resetsAt !== undefined) window.resetsAt = resetsAt;
  return window;
}

/** An ISO date string as ms, or undefined when it is missing or unparsable. */
export function isoTime(value: unknown): number | undefined {
  const ms = Date.parse(str(value) ?? "");
  return Number.isFinite(ms) ? ms : undefined;
}

/** The quota answer; `plan` only when there is one. */
export function providerQuota(plan: string | undefined, windows: QuotaWindow[]): ProviderQuota {
  return plan ? { plan, windows } : { windows };
}

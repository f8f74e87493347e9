/** The errors Kleis itself answers on proxy routes (docs/api.md#proxy-routes). */
import { KleisError } from "../errors.ts";
import type { ProviderId } from "../model/providers.ts";
import { CLIENT_CLOSED_STATUS } from "./usage_tracker.ts";

export const PROVIDER_NAMES: Record<ProviderId, string> = {
  codex: "Codex (ChatGPT)",
  claude: "Claude",
  copilot: "GitHub Copilot",
};

/** The client went away before its answer began. */
export function clientClosed(): KleisError {
  return new KleisError(
    CLIENT_CLOSED_STATUS,
    "client_closed_request",
    "The client closed the request.",
  );
}

export function noEnabledAccount(provider: ProviderId): KleisError {
  return new KleisError(
    503,
    "no_account",
    `No enabled ${PROVIDER_NAMES[provider]} account is connected to Kleis.`,
  );
}

export function pinnedAccountMissing(provider: ProviderId): KleisError {
  return new KleisError(
    503,
    "pinned_account_unavailable",
    `The ${PROVIDER_NAMES[provider]} account this API key is pinned to is disabled or was removed.`,
  );
}

export function allCoolingDown(provider: ProviderId, until: number, now: number): KleisError {
  const seconds = Math.max(1, Math.ceil((until - now) / 1000));
  return new KleisError(
    503,
    "accounts_cooling_down",
    `Every ${PROVIDER_NAMES[provider]} account is rate limited or out of quota; ` +
      `the first one is available again in ${seconds} s.`,
    { headers: { "Retry-After": String(seconds) } },
  );
}

export function refreshFailed(provider: ProviderId): KleisError {
  return new KleisError(
    502,
    "token_refresh_failed",
    `Kleis could not get a valid ${PROVIDER_NAMES[provider]} token for any account ` +
      `(refresh failed or a new login is needed).`,
  );
}

export function backendUnreachable(provider: ProviderId): KleisError {
  return new KleisError(
    502,
    "backend_unreachable",
    `Kleis could not reach the ${PROVIDER_NAMES[provider]} backend.`,
  );
}

export function backendTimeout(provider: ProviderId, ms: number): KleisError {
  return new KleisError(
    502,
    "backend_timeout",
    `The ${PROVIDER_NAMES[provider]} backend did not answer within ${formatDuration(ms)}.`,
  );
}

export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}

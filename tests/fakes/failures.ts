/** Ready-made `FailSpec`s in each backend's real error shape, for `failNext` / `failWhen`. */
import type { FailSpec } from "./backend.ts";

/** Codex (chatgpt fake): subscription window spent until `resetsAt` (unix s). */
export function codexUsageLimit(resetsAt: number, plan = "plus"): FailSpec {
  return {
    status: 429,
    body: {
      error: {
        type: "usage_limit_reached",
        message: "The usage limit has been reached",
        plan_type: plan,
        resets_at: resetsAt,
      },
    },
    headers: {
      "x-codex-primary-used-percent": "100",
      "x-codex-primary-reset-at": String(resetsAt),
    },
  };
}

/** Codex: transient overload. */
export function codexOverloaded(): FailSpec {
  return {
    status: 503,
    body: {
      error: { type: "server_is_overloaded", message: "Our servers are currently overloaded." },
    },
  };
}

/** Claude (anthropic fake): unified limit rejected until `resetAt` (unix s). */
export function claudeRateLimited(resetAt: number, retryAfterSec = 60): FailSpec {
  return {
    status: 429,
    body: {
      type: "error",
      error: { type: "rate_limit_error", message: "This request would exceed your rate limit." },
    },
    headers: {
      "anthropic-ratelimit-unified-status": "rejected",
      "anthropic-ratelimit-unified-reset": String(resetAt),
      "retry-after": String(retryAfterSec),
    },
  };
}

/** Claude: transient overload (529). */
export function claudeOverloaded(): FailSpec {
  return {
    status: 529,
    body: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
  };
}

/** Claude: token rejected. */
export function claudeUnauthorized(): FailSpec {
  return {
    status: 401,
    body: {
      type: "error",
      error: { type: "authentication_error", message: "Invalid bearer token" },
    },
  };
}

/** Copilot: premium allowance spent (402). */
export function copilotQuotaExceeded(): FailSpec {
  return {
    status: 402,
    body: { error: { message: "You have no quota", code: "quota_exceeded" } },
  };
}

/** Copilot: rate limited with a wait in the message. */
export function copilotRateLimited(hours = 58): FailSpec {
  return {
    status: 429,
    body: {
      error: {
        message:
          `Sorry, you have exhausted this model's rate limit. Please try again in ${hours} hours.`,
        code: "rate_limited",
      },
    },
  };
}

/** Any backend: 401 in the OpenAI error shape (Copilot, Codex). */
export function openaiUnauthorized(): FailSpec {
  return {
    status: 401,
    body: {
      error: { message: "Unauthorized", type: "invalid_request_error", code: "token_expired" },
    },
  };
}

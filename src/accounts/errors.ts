/**
 * Errors of the account side. AccountUnavailableError is what the proxy sees
 * when an account has no usable token; its message never carries a secret.
 */
import { KleisError } from "../errors.ts";

export type AccountUnavailableReason = "needs_login" | "refresh_failed";

export class AccountUnavailableError extends KleisError {
  constructor(
    readonly accountId: string,
    readonly reason: AccountUnavailableReason,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(502, reason === "needs_login" ? "account_needs_login" : "token_refresh_failed", message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.name = "AccountUnavailableError";
  }
}

/**
 * A provider's token endpoint refused or failed. `permanent` failures
 * (invalid_grant, a reused refresh token, a revoked GitHub token) need a new
 * login and are never retried; the others are retried with backoff.
 */
export class ProviderAuthError extends Error {
  constructor(
    readonly permanent: boolean,
    /** Short machine-readable reason, safe to store and show (never a token). */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ProviderAuthError";
  }
}

/** A login flow step the admin can act on (bad paste, denied, expired upstream). */
export class LoginFlowError extends KleisError {
  constructor(status: number, code: string, message: string) {
    super(status, code, message);
    this.name = "LoginFlowError";
  }
}

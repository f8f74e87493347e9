/**
 * Errors the provider adapters raise on the account side: a refused or
 * failed token endpoint, and a login step the admin can act on.
 */
import { KleisError } from "../../errors.ts";

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

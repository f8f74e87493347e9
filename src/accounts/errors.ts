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

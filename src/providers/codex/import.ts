/**
 * Import of Codex tokens: identity, plan and expiry from the JWT claims
 * (docs/providers/codex.md#credential-files-for-import).
 */
import type { Deps } from "../../deps.ts";
import { badRequest } from "../../errors.ts";
import { jwtExpiry } from "../common/expiry.ts";
import { storedTokens } from "../common/tokens.ts";
import type { ImportResult, ParsedCredentials } from "../account_types.ts";
import { codexIdentity } from "./identity.ts";
import { TAKEOVER_WARNING } from "../account_common.ts";

export function importCodex(deps: Deps, parsed: ParsedCredentials): Promise<ImportResult> {
  const identity = codexIdentity(
    { idToken: parsed.idToken, accessToken: parsed.accessToken },
    { accountId: parsed.accountId },
  );
  if (!identity) {
    throw badRequest(
      "invalid_credentials",
      "The Codex token carries no ChatGPT account id (is accessToken a ChatGPT JWT?).",
    );
  }
  const expiresAt = parsed.expiresAt ?? jwtExpiry(parsed.accessToken) ?? jwtExpiry(parsed.idToken);
  const tokens = storedTokens(parsed.accessToken, parsed.refreshToken, expiresAt);
  const warnings = [TAKEOVER_WARNING];
  if (!parsed.refreshToken) {
    warnings.push(
      "No refresh token was given: the account stops working when the access token expires.",
    );
  }
  if (expiresAt !== undefined && expiresAt <= deps.now()) {
    warnings.push("The access token has already expired; Kleis refreshes it before first use.");
  }
  return Promise.resolve({ tokens, identity, warnings });
}

/**
 * Import of Claude tokens. The files carry no identity, so it comes from
 * GET /api/oauth/profile. When that fails the import still succeeds with
 * the identity unknown: the external id is then "unverified:" + the first
 * 24 hex digits of SHA-256(refresh token, else access token), stable for
 * re-imports of the same file, and the admin is warned.
 */
import type { Deps } from "../../deps.ts";
import { sha256Hex } from "../../crypto.ts";
import { badRequest } from "../../errors.ts";
import { callProvider, readJsonObject } from "../common/http.ts";
import { storedTokens } from "../common/tokens.ts";
import type { AccountIdentity, ImportResult, ParsedCredentials } from "../account_types.ts";
import { TAKEOVER_WARNING } from "../account_common.ts";
import { OAUTH_BETA, PROFILE_PATH } from "./constants.ts";
import { claudeIdentity } from "./identity.ts";

async function fetchProfile(deps: Deps, accessToken: string): Promise<AccountIdentity | undefined> {
  try {
    const res = await callProvider(deps, deps.config.upstream.anthropic + PROFILE_PATH, {
      headers: {
        Authorization: `Bearer ${accessToken}`,
        "anthropic-beta": OAUTH_BETA,
        Accept: "application/json",
      },
    });
    const body = await readJsonObject(res);
    return res.ok ? claudeIdentity(body, "profile") : undefined;
  } catch {
    return undefined;
  }
}

export async function importClaude(deps: Deps, parsed: ParsedCredentials): Promise<ImportResult> {
  if (!parsed.accessToken.startsWith("sk-ant-")) {
    throw badRequest("invalid_credentials", "A Claude access token starts with sk-ant-.");
  }
  const warnings = [TAKEOVER_WARNING];
  let identity = await fetchProfile(deps, parsed.accessToken);
  if (!identity) {
    const digest = await sha256Hex(parsed.refreshToken ?? parsed.accessToken);
    identity = {
      externalId: `unverified:${digest.slice(0, 24)}`,
      label: parsed.label ?? "Claude account (identity unknown)",
      meta: { identityUnknown: true },
    };
    warnings.push(
      "Claude did not confirm who this account is (profile lookup failed); it was imported with an unknown identity, so a later login of the same account creates a second entry.",
    );
  }
  if (parsed.plan) identity.plan = parsed.plan;
  const tokens = storedTokens(parsed.accessToken, parsed.refreshToken, parsed.expiresAt);
  if (!parsed.refreshToken) {
    warnings.push(
      "No refresh token was given: the account stops working when the access token expires.",
    );
  }
  return { tokens, identity, warnings };
}

/** Codex identity from JWT claims (docs/providers/codex.md#identity); never verified, only read. */
import { decodeJwtPayload } from "../../crypto.ts";
import { obj, str } from "../common/http.ts";
import type { AccountIdentity } from "../account_types.ts";
import { AUTH_CLAIM, PROFILE_CLAIM } from "./constants.ts";

function claimsAccountId(claims: Record<string, unknown> | undefined): string | undefined {
  if (!claims) return undefined;
  const orgs = claims["organizations"];
  const firstOrg = Array.isArray(orgs) ? obj(orgs[0]) : undefined;
  return str(claims["chatgpt_account_id"]) ??
    str(obj(claims[AUTH_CLAIM])?.["chatgpt_account_id"]) ??
    str(firstOrg?.["id"]);
}

/** Identity of a token pair: the id_token's claims first, then the access token's. */
export function codexIdentity(
  tokens: { idToken?: string | undefined; accessToken: string },
  hints: { accountId?: string | undefined; label?: string | undefined } = {},
): AccountIdentity | undefined {
  const sources = [tokens.idToken, tokens.accessToken]
    .map((t) => (t ? decodeJwtPayload(t) : undefined))
    .filter((c): c is Record<string, unknown> => c !== undefined);
  const pick = (read: (c: Record<string, unknown>) => string | undefined) => {
    for (const c of sources) {
      const v = read(c);
      if (v) return v;
    }
    return undefined;
  };
  const accountId = pick(claimsAccountId) ?? hints.accountId;
  if (!accountId) return undefined;
  const email = pick((c) => str(c["email"]) ?? str(obj(c[PROFILE_CLAIM])?.["email"]));
  const plan = pick((c) => str(obj(c[AUTH_CLAIM])?.["chatgpt_plan_type"]));
  const identity: AccountIdentity = { externalId: accountId, label: email ?? accountId };
  if (email) identity.email = email;
  if (plan) identity.plan = plan;
  return identity;
}

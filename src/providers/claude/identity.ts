/**
 * Who a Claude account is, from the `account` and `organization` objects of
 * a token answer or of GET /api/oauth/profile (docs/providers/claude.md#identity).
 */
import { obj, str } from "../common/http.ts";
import type { AccountIdentity } from "../account_types.ts";

/**
 * The token endpoint names the email `email_address` and gives no
 * organization type; the profile says `email` and adds `organization_type`.
 * Each source's own field name is read first.
 */
export function claudeIdentity(
  answer: Record<string, unknown> | undefined,
  source: "token" | "profile",
): AccountIdentity | undefined {
  const account = obj(answer?.["account"]);
  const org = obj(answer?.["organization"]);
  const uuid = str(account?.["uuid"]);
  if (!uuid) return undefined;
  const email = source === "token"
    ? str(account?.["email_address"]) ?? str(account?.["email"])
    : str(account?.["email"]) ?? str(account?.["email_address"]);
  const meta: NonNullable<AccountIdentity["meta"]> = {
    organizationId: str(org?.["uuid"]),
    organizationName: str(org?.["name"]),
  };
  if (source === "profile") meta["organizationType"] = str(org?.["organization_type"]);
  const identity: AccountIdentity = { externalId: uuid, label: email ?? uuid, meta };
  if (email) identity.email = email;
  return identity;
}

/** Import of a Copilot token (`gho_` used directly, `ghu_` through the exchange). */
import type { Deps } from "../../deps.ts";
import { badRequest } from "../../errors.ts";
import type { ImportResult, ParsedCredentials } from "../account_types.ts";
import { normaliseEnterpriseDomain } from "./hosts.ts";
import { githubLogin } from "./github.ts";

export async function importCopilot(deps: Deps, parsed: ParsedCredentials): Promise<ImportResult> {
  const token = parsed.accessToken;
  if (!/^gh[ou]_[A-Za-z0-9_]+$/.test(token)) {
    throw badRequest(
      "invalid_credentials",
      "A Copilot token must be a GitHub OAuth token (gho_...) or an editor token (ghu_...).",
    );
  }
  const domain = normaliseEnterpriseDomain(parsed.host);
  return { ...await githubLogin(deps, domain, token), warnings: [] };
}

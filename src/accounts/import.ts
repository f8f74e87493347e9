/**
 * POST /admin/accounts/:provider/import: raw fields, or a credential file's
 * JSON as it is on disk, detected by shape (section "Credential files for import" of
 * docs/providers/copilot.md, codex.md and claude.md).
 * An OpenCode auth.json yields the entry of the route's provider.
 */
import type { Deps } from "../deps.ts";
import { badRequest, KleisError } from "../errors.ts";
import type { ProviderId } from "../model/providers.ts";
import { accountAdapter } from "../providers/mod.ts";
import type { ParsedCredentials } from "../providers/account_types.ts";
import { ProviderAuthError } from "../providers/common/errors.ts";
import { num, obj, str } from "../providers/common/http.ts";
import { requireAccount, saveLogin } from "./repository.ts";
import { refreshTokens } from "./refresh.ts";
import { AccountUnavailableError } from "./errors.ts";
import { checkCredentialSizes, checkExternalId } from "./import_limits.ts";
import { type AdminAccountView, adminAccountView } from "./status.ts";

const OPENCODE_ENTRY: Record<ProviderId, string> = {
  codex: "openai",
  claude: "anthropic",
  copilot: "github-copilot",
};

const SHAPES =
  "raw fields {accessToken, refreshToken?, expiresAt?, label?}, Codex auth.json, Claude .credentials.json, OpenCode auth.json, or Copilot apps.json/hosts.json";

/** Milliseconds, accepting seconds (values before 2001 in ms are taken as seconds). */
function epochMs(value: unknown): number | undefined {
  const n = num(value);
  if (n === undefined || n <= 0) return undefined;
  return n < 1e12 ? n * 1000 : n;
}

function wrongProvider(found: ProviderId, route: ProviderId): KleisError {
  return badRequest(
    "wrong_provider",
    `This credential is for ${found}; import it at /admin/accounts/${found}/import, not ${route}.`,
  );
}

/** A credential with those of `fields` that have a value (files leave many out). */
function credential(
  accessToken: string,
  fields: {
    [K in Exclude<keyof ParsedCredentials, "accessToken">]?: ParsedCredentials[K] | undefined;
  },
): ParsedCredentials {
  const parsed: ParsedCredentials = { accessToken };
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) Object.assign(parsed, { [name]: value });
  }
  return parsed;
}

function requireToken(value: unknown, field: string): string {
  const token = str(value);
  if (!token) throw badRequest("invalid_credentials", `${field} is missing or not a string.`);
  return token;
}

/** Finds the credential in any supported shape. */
export function parseCredentialInput(provider: ProviderId, body: unknown): ParsedCredentials {
  const input = obj(body);
  if (!input) throw badRequest("invalid_request", "The body must be a JSON object.");

  if ("accessToken" in input) {
    const parsed: ParsedCredentials = {
      accessToken: requireToken(input["accessToken"], "accessToken"),
    };
    if (input["refreshToken"] !== undefined) {
      parsed.refreshToken = requireToken(input["refreshToken"], "refreshToken");
    }
    if (input["expiresAt"] !== undefined) {
      const expiresAt = epochMs(input["expiresAt"]);
      if (expiresAt === undefined) {
        throw badRequest("invalid_credentials", "expiresAt must be a time in ms.");
      }
      parsed.expiresAt = expiresAt;
    }
    if (input["label"] !== undefined) {
      const label = str(input["label"]);
      if (!label || label.length > 100) {
        throw badRequest("invalid_label", "label must be 1-100 characters.");
      }
      parsed.label = label;
    }
    if (input["enterpriseDomain"] !== undefined) parsed.host = String(input["enterpriseDomain"]);
    return parsed;
  }

  const codexTokens = obj(input["tokens"]);
  if (codexTokens) {
    if (provider !== "codex") throw wrongProvider("codex", provider);
    return credential(requireToken(codexTokens["access_token"], "tokens.access_token"), {
      refreshToken: str(codexTokens["refresh_token"]),
      idToken: str(codexTokens["id_token"]),
      accountId: str(codexTokens["account_id"]),
    });
  }

  const claude = obj(input["claudeAiOauth"]);
  if (claude) {
    if (provider !== "claude") throw wrongProvider("claude", provider);
    return credential(requireToken(claude["accessToken"], "claudeAiOauth.accessToken"), {
      refreshToken: str(claude["refreshToken"]),
      expiresAt: epochMs(claude["expiresAt"]),
      plan: str(claude["subscriptionType"]),
    });
  }

  const openCodeKeys = Object.values(OPENCODE_ENTRY).filter((k) => obj(input[k]));
  if (openCodeKeys.length > 0) {
    const entry = obj(input[OPENCODE_ENTRY[provider]]);
    if (!entry) {
      throw badRequest(
        "no_matching_entry",
        `This OpenCode auth.json has no "${OPENCODE_ENTRY[provider]}" entry for ${provider}.`,
      );
    }
    if (entry["type"] !== "oauth") {
      throw badRequest(
        "invalid_credentials",
        `The "${OPENCODE_ENTRY[provider]}" entry is not an OAuth login.`,
      );
    }
    // Copilot entries repeat the gho_ token as "refresh" and say expires: 0; neither applies.
    const copilot = provider === "copilot";
    return credential(requireToken(entry["access"], `${OPENCODE_ENTRY[provider]}.access`), {
      refreshToken: copilot ? undefined : str(entry["refresh"]),
      expiresAt: copilot ? undefined : epochMs(entry["expires"]),
      accountId: str(entry["accountId"]),
      host: str(entry["enterpriseUrl"]),
    });
  }

  // Copilot apps.json ("<host>:<appId>" keys) and hosts.json ("<host>" keys).
  const copilotEntries = Object.entries(input).filter(([, v]) => str(obj(v)?.["oauth_token"]));
  if (copilotEntries.length > 0) {
    if (provider !== "copilot") throw wrongProvider("copilot", provider);
    const hostOf = ([key, value]: [string, unknown]) => {
      const appId = str(obj(value)?.["githubAppId"]);
      return appId && key.endsWith(`:${appId}`) ? key.slice(0, -appId.length - 1) : key;
    };
    const chosen = copilotEntries.find((e) => hostOf(e) === "github.com") ?? copilotEntries[0]!;
    const value = obj(chosen[1])!;
    const host = hostOf(chosen);
    return credential(requireToken(value["oauth_token"], "oauth_token"), {
      host: host === "github.com" ? undefined : host,
      user: str(value["user"]),
    });
  }
  throw badRequest(
    "unrecognised_credentials",
    `The body is not a credential Kleis knows: ${SHAPES}.`,
  );
}

export interface ImportAnswer {
  account: AdminAccountView;
  warnings?: string[];
}

export async function importCredentials(
  deps: Deps,
  provider: ProviderId,
  body: unknown,
): Promise<ImportAnswer> {
  const parsed = parseCredentialInput(provider, body);
  checkCredentialSizes(parsed);
  let result;
  try {
    result = await accountAdapter(provider).importCredentials(deps, parsed);
  } catch (error) {
    if (error instanceof ProviderAuthError) {
      if (error.permanent) {
        throw badRequest("credentials_refused", `The provider refused the token: ${error.message}`);
      }
      throw new KleisError(502, "provider_unavailable", error.message);
    }
    throw error;
  }
  checkExternalId(result.identity.externalId);
  const saved = await saveLogin(deps, provider, result, { label: parsed.label, source: "import" });
  const warnings = [...result.warnings];
  let account = saved.account;
  if (result.tokens.refreshToken !== undefined) {
    warnings.push(...await refreshAfterImport(deps, account.id));
    account = await requireAccount(deps.kv, account.id);
  }
  const answer: ImportAnswer = { account: await adminAccountView(deps, account) };
  if (warnings.length > 0) answer.warnings = warnings;
  return answer;
}

/**
 * A credential file's refresh token may already be spent: the CLI it came
 * from refreshes on its own, and these refresh tokens are single-use. So an
 * import refreshes at once, through the one refresh path (which records a
 * refusal on the account as needs_login), and the admin learns now rather
 * than on the first request. Returns the warnings to show.
 */
async function refreshAfterImport(deps: Deps, accountId: string): Promise<string[]> {
  try {
    await refreshTokens(deps, accountId, { force: true, evenIfJustWritten: true, actor: "import" });
    return [];
  } catch (error) {
    if (!(error instanceof AccountUnavailableError)) throw error;
    return error.reason === "needs_login"
      ? [
        `The imported refresh token no longer works, so the account needs a new login: ${error.message}`,
      ]
      : [
        `The imported token could not be refreshed now; the refresh sweep tries again: ${error.message}`,
      ];
  }
}

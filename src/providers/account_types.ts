/**
 * The account side of a provider adapter: login, import, refresh, quota.
 * Services in src/accounts drive these; adapters only speak to their
 * provider (URLs, bodies, headers) and normalise the answers.
 */
import type { Deps } from "../deps.ts";
import type { AccountRecord, UpstreamCredentials } from "../model/accounts.ts";
import type { ProviderId } from "../model/providers.ts";
import type { ProviderQuota } from "../model/quota.ts";

/** Tokens of one account, as sealed at rest (keys.accountTokens). */
export interface StoredTokens {
  accessToken: string;
  refreshToken?: string;
  /** Access token expiry (ms); absent when it does not expire (Copilot). */
  expiresAt?: number;
  /** Copilot `ghu_` accounts: the exchanged Copilot API token, cached until shortly before expiry. */
  copilotToken?: string;
  copilotTokenExpiresAt?: number;
  copilotApiBase?: string;
}

/** Who an account is at the provider, and the non-secret facts to keep. */
export interface AccountIdentity {
  externalId: string;
  /** Default label (email or login) for a new account. */
  label: string;
  email?: string;
  plan?: string;
  meta?: Record<string, string | number | boolean | undefined>;
}

export interface LoginResult {
  tokens: StoredTokens;
  identity: AccountIdentity;
}

export interface LoginStartInput {
  mode?: "browser" | "device" | undefined;
  enterpriseDomain?: string | undefined;
}

/** What an adapter returns when a login starts; `secret` is sealed in the flow record. */
export interface LoginStart {
  kind: string;
  method: "code" | "device";
  authorizationUrl: string;
  userCode?: string;
  instructions: string;
  expiresInMs: number;
  /** Device flows: minimum time between two polls. */
  intervalMs?: number;
  secret: Record<string, string>;
  /** Non-secret facts the completion needs (enterprise domain, ...). */
  meta?: Record<string, string>;
}

export interface LoginCompleteInput {
  kind: string;
  secret: Record<string, string>;
  meta: Record<string, string>;
  code?: string | undefined;
  /** Device flows: the interval in force (a slow_down without a new interval adds 5 s to it). */
  intervalMs?: number | undefined;
}

export type LoginStep =
  | { status: "pending"; intervalMs?: number }
  | { status: "complete"; login: LoginResult };

/** A credential, whatever file it came from. */
export interface ParsedCredentials {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
  label?: string;
  /** Identity hints the file carries (Codex account_id, Copilot user/host, Claude plan). */
  accountId?: string;
  user?: string;
  host?: string;
  plan?: string;
  idToken?: string;
}

export interface ImportResult extends LoginResult {
  warnings: string[];
}

export interface RefreshResult {
  tokens: StoredTokens;
  /** Facts learnt from the new tokens (plan, email) to merge into the record. */
  identity?: Partial<AccountIdentity>;
}

export interface AccountAdapter {
  provider: ProviderId;
  /** True when the tokens must be refreshed before use (or `force`, after a backend 401). */
  needsRefresh(tokens: StoredTokens, now: number, force: boolean): boolean;
  /** One refresh attempt; throws ProviderAuthError (permanent or transient). */
  refresh(deps: Deps, account: AccountRecord, tokens: StoredTokens): Promise<RefreshResult>;
  /** The bearer and API base the proxy should use, from fresh tokens. */
  upstream(deps: Deps, account: AccountRecord, tokens: StoredTokens): UpstreamCredentials;
  startLogin(deps: Deps, input: LoginStartInput): Promise<LoginStart>;
  /** At most one upstream poll or one code exchange; throws LoginFlowError when the flow failed. */
  completeLogin(deps: Deps, input: LoginCompleteInput): Promise<LoginStep>;
  importCredentials(deps: Deps, parsed: ParsedCredentials): Promise<ImportResult>;
  fetchQuota(deps: Deps, account: AccountRecord, tokens: StoredTokens): Promise<ProviderQuota>;
  /** Cheap check that the login still works (Copilot: GET /user); throws ProviderAuthError. */
  validate?(deps: Deps, account: AccountRecord, tokens: StoredTokens): Promise<void>;
}

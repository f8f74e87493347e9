/**
 * The shared state of "the real services" behind the fakes: which tokens each
 * provider has issued, until when they are valid, which refresh tokens were
 * already used, and who each token belongs to.
 *
 * Expiry is judged with `world.now()`, which tests may replace.
 */

export interface GithubIdentity {
  userId: number;
  login: string;
  email: string | null;
}

export interface CodexIdentity {
  accountId: string;
  plan: string;
  email: string;
  userId: string;
}

export interface ClaudeIdentity {
  uuid: string;
  email: string;
  orgUuid: string;
  orgName: string;
  orgType: string;
}

export type TokenCheck<I> =
  | { ok: true; identity: I; kind: string }
  | { ok: false; reason: "unknown" | "expired" | "revoked" };

export type RefreshCheck<I> =
  | { ok: true; identity: I }
  | { ok: false; reason: "unknown" | "reused" | "revoked" };

interface AccessRecord<I> {
  identity: I;
  kind: string;
  expiresAt: number | null;
}

/** Access tokens (with expiry) and single-use refresh tokens of one provider. */
export class TokenBook<I> {
  readonly access = new Map<string, AccessRecord<I>>();
  readonly refresh = new Map<string, { identity: I; usedAt: number | null }>();

  constructor(private readonly world: FakeWorld) {}

  addAccess(token: string, identity: I, expiresAt: number | null, kind = "access"): void {
    this.access.set(token, { identity, kind, expiresAt });
  }

  addRefresh(token: string, identity: I): void {
    this.refresh.set(token, { identity, usedAt: null });
  }

  checkAccess(token: string): TokenCheck<I> {
    const record = this.access.get(token);
    if (!record) return { ok: false, reason: "unknown" };
    if (this.world.isRevoked(token)) return { ok: false, reason: "revoked" };
    if (record.expiresAt !== null && record.expiresAt <= this.world.now()) {
      return { ok: false, reason: "expired" };
    }
    return { ok: true, identity: record.identity, kind: record.kind };
  }

  /** Consumes a refresh token: the first use succeeds, every later use is a reuse. */
  useRefresh(token: string): RefreshCheck<I> {
    const record = this.refresh.get(token);
    if (!record) return { ok: false, reason: "unknown" };
    if (this.world.isRevoked(token)) return { ok: false, reason: "revoked" };
    if (record.usedAt !== null) return { ok: false, reason: "reused" };
    record.usedAt = this.world.now();
    return { ok: true, identity: record.identity };
  }

  expire(token: string): boolean {
    const record = this.access.get(token);
    if (!record) return false;
    record.expiresAt = this.world.now() - 1;
    return true;
  }
}

export interface CodexTokens {
  access_token: string;
  refresh_token: string;
  id_token: string;
  expires_in: number;
}

export interface ClaudeTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

const FIXTURE_EXPIRY_MS = 1893456000000;
const FIXTURE_CODEX_ACCESS =
  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJodHRwczovL2FwaS5vcGVuYWkuY29tL2F1dGgiOnsiY2hhdGdwdF9hY2NvdW50X2lkIjoiYWNjdC1maXh0dXJlLTAwMDEiLCJjaGF0Z3B0X3BsYW5fdHlwZSI6InBybyJ9LCJodHRwczovL2FwaS5vcGVuYWkuY29tL3Byb2ZpbGUiOnsiZW1haWwiOiJkZXZAZXhhbXBsZS5jb20ifSwiZXhwIjoxODkzNDU2MDAwLCJpYXQiOjE4OTI1OTIwMDB9.c2lnbmF0dXJl";

/** Identities behind the credential fixtures (`tests/fixtures/credentials`). */
export const FIXTURE_IDENTITIES = {
  github: { userId: 1000001, login: "octo-fixture", email: "octo-fixture@example.com" },
  codex: {
    accountId: "acct-fixture-0001",
    plan: "pro",
    email: "dev@example.com",
    userId: "user-fixture",
  },
  claude: {
    uuid: "5b0e1c3a-0000-4000-8000-00000000c1a0",
    email: "claude-fixture@example.com",
    orgUuid: "5b0e1c3a-0000-4000-8000-0000000000f0",
    orgName: "Fixture Org",
    orgType: "claude_max",
  },
} as const satisfies {
  github: GithubIdentity;
  codex: CodexIdentity;
  claude: ClaudeIdentity;
};

export function randomId(bytes = 16): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(raw, (b) => b.toString(16).padStart(2, "0")).join("");
}

function randomAlnum(length: number): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const raw = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(raw, (b) => chars[b % chars.length]).join("");
}

export function base64url(input: string | Uint8Array): string {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** base64url(SHA-256(verifier)) without padding, as PKCE S256 wants it. */
export async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** An unsigned JWT: the payload decodes, the signature means nothing. */
export function unsignedJwt(payload: Record<string, unknown>): string {
  const header = base64url(JSON.stringify({ alg: "none", typ: "JWT" }));
  return `${header}.${base64url(JSON.stringify(payload))}.${base64url("fake-signature")}`;
}

export class FakeWorld {
  /** Clock used for every expiry decision of the fakes (ms). Replace to move time. */
  now: () => number = () => Date.now();
  readonly github: TokenBook<GithubIdentity> = new TokenBook(this);
  /** Short-lived tokens from `/copilot_internal/v2/token`. */
  readonly copilotApi: TokenBook<GithubIdentity> = new TokenBook(this);
  readonly codex: TokenBook<CodexIdentity> = new TokenBook(this);
  readonly claude: TokenBook<ClaudeIdentity> = new TokenBook(this);
  readonly #revoked = new Set<string>();
  #nextUserId = 2000001;

  constructor(opts: { seedFixtures?: boolean } = {}) {
    if (opts.seedFixtures !== false) this.#seedFixtures();
  }

  #seedFixtures(): void {
    const gh = FIXTURE_IDENTITIES.github;
    this.github.addAccess("ghu_fixtureEditorToken0001", gh, null, "ghu");
    this.github.addAccess("gho_fixtureHostsToken0001", gh, null, "gho");
    this.github.addAccess("gho_fixtureOpenCodeToken0001", gh, null, "gho");
    const cx = FIXTURE_IDENTITIES.codex;
    this.codex.addAccess(FIXTURE_CODEX_ACCESS, cx, FIXTURE_EXPIRY_MS);
    this.codex.addRefresh("rt_fixture_codex_0001", cx);
    this.codex.addRefresh("rt_fixture_oc_codex", cx);
    const cl = FIXTURE_IDENTITIES.claude;
    this.claude.addAccess("sk-ant-oat01-fixture-access", cl, FIXTURE_EXPIRY_MS);
    this.claude.addRefresh("sk-ant-ort01-fixture-refresh", cl);
    this.claude.addAccess("sk-ant-oat01-fixture-oc-access", cl, FIXTURE_EXPIRY_MS);
    this.claude.addRefresh("sk-ant-ort01-fixture-oc-refresh", cl);
  }

  /** Fills in a GitHub identity; a missing user id gets a fresh one. */
  githubIdentity(partial: Partial<GithubIdentity> = {}): GithubIdentity {
    const userId = partial.userId ?? this.#nextUserId++;
    return {
      userId,
      login: partial.login ?? `octo-${userId}`,
      email: partial.email === undefined ? `octo-${userId}@example.com` : partial.email,
    };
  }

  /**
   * A GitHub OAuth token usable for Copilot: `gho_` (device flow, used directly
   * as the Copilot bearer) by default, or `ghu_` (editor token, needs the exchange).
   */
  issueCopilotToken(
    identity: Partial<GithubIdentity> & { kind?: "gho" | "ghu" } = {},
  ): string {
    const kind = identity.kind ?? "gho";
    const token = `${kind}_${randomAlnum(36)}`;
    this.github.addAccess(token, this.githubIdentity(identity), null, kind);
    return token;
  }

  /** The short-lived token `/copilot_internal/v2/token` hands out for a `ghu_` token. */
  issueCopilotApiToken(identity: GithubIdentity, ttlSec: number): string {
    const exp = Math.floor(this.now() / 1000) + ttlSec;
    const token = `tid=${randomId(16)};exp=${exp};sku=copilot_for_individuals:${randomId(32)}`;
    this.copilotApi.addAccess(token, identity, this.now() + ttlSec * 1000, "copilot");
    return token;
  }

  issueCodexTokens(
    opts: Partial<CodexIdentity> & { expiresInSec?: number } = {},
  ): CodexTokens {
    const identity: CodexIdentity = {
      accountId: opts.accountId ?? `acct-${randomId(8)}`,
      plan: opts.plan ?? "plus",
      email: opts.email ?? "codex-user@example.com",
      userId: opts.userId ?? `user-${randomId(6)}`,
    };
    const expiresIn = opts.expiresInSec ?? 864000;
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + expiresIn;
    const auth = {
      chatgpt_account_id: identity.accountId,
      chatgpt_plan_type: identity.plan,
      chatgpt_user_id: identity.userId,
    };
    const access_token = unsignedJwt({
      "https://api.openai.com/auth": auth,
      "https://api.openai.com/profile": { email: identity.email, email_verified: true },
      client_id: "app_EMoamEEZ73f0CkXaXp7hrann",
      iat,
      exp,
      jti: randomId(8),
    });
    const id_token = unsignedJwt({
      email: identity.email,
      "https://api.openai.com/auth": auth,
      aud: ["app_EMoamEEZ73f0CkXaXp7hrann"],
      iss: "https://auth.openai.com",
      sub: identity.userId,
      iat,
      exp,
    });
    const refresh_token = `rt_${randomAlnum(40)}`;
    this.codex.addAccess(access_token, identity, exp * 1000);
    this.codex.addRefresh(refresh_token, identity);
    return { access_token, refresh_token, id_token, expires_in: expiresIn };
  }

  issueClaudeTokens(
    opts: Partial<ClaudeIdentity> & { expiresInSec?: number } = {},
  ): ClaudeTokens {
    const identity: ClaudeIdentity = {
      uuid: opts.uuid ?? crypto.randomUUID(),
      email: opts.email ?? "claude-user@example.com",
      orgUuid: opts.orgUuid ?? crypto.randomUUID(),
      orgName: opts.orgName ?? "Personal",
      orgType: opts.orgType ?? "claude_max",
    };
    const expiresIn = opts.expiresInSec ?? 28800;
    const access_token = `sk-ant-oat01-${randomAlnum(80)}`;
    const refresh_token = `sk-ant-ort01-${randomAlnum(80)}`;
    this.claude.addAccess(access_token, identity, this.now() + expiresIn * 1000);
    this.claude.addRefresh(refresh_token, identity);
    return { access_token, refresh_token, expires_in: expiresIn };
  }

  /** Revokes any token (access or refresh, of any provider). */
  revoke(token: string): void {
    this.#revoked.add(token);
  }

  isRevoked(token: string): boolean {
    return this.#revoked.has(token);
  }

  /** Makes an access token expired now (its JWT `exp`, if any, is left alone). */
  expire(token: string): boolean {
    return [this.github, this.copilotApi, this.codex, this.claude].some((b) => b.expire(token));
  }
}

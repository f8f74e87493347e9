/** Fake of `https://api.github.com`: user lookup, Copilot token exchange, Copilot quota. */
import { bearer, FakeServer, json, type RecordedRequest } from "./server.ts";
import type { FakeWorld, GithubIdentity } from "./world.ts";

export interface GithubApiOptions {
  /** Origin handed out as `endpoints.api` (the Copilot fake). */
  copilotUrl?: string;
  /** Lifetime of exchanged Copilot tokens (s); default 1800. */
  copilotTokenTtlSec?: number;
}

export interface PremiumQuota {
  entitlement: number;
  remaining: number;
  percent_remaining: number;
  unlimited: boolean;
  overage_permitted: boolean;
  overage_count: number;
}

export interface CopilotQuota {
  copilot_plan: string;
  quota_reset_date: string;
  premium_interactions: PremiumQuota;
}

const REQUIRED_EDITOR_HEADERS = ["editor-version", "editor-plugin-version"] as const;

function badCredentials(): Response {
  return json({
    message: "Bad credentials",
    documentation_url: "https://docs.github.com/rest",
    status: "401",
  }, 401);
}

export class FakeGithubApi extends FakeServer {
  copilotUrl: string;
  copilotTokenTtlSec: number;
  /** Exchanges answered (successful `/copilot_internal/v2/token` calls). */
  exchangeCount = 0;
  readonly #quotas = new Map<number, Partial<CopilotQuota>>();

  constructor(readonly world: FakeWorld, opts: GithubApiOptions = {}) {
    super();
    this.copilotUrl = opts.copilotUrl ?? "http://127.0.0.1:1";
    this.copilotTokenTtlSec = opts.copilotTokenTtlSec ?? 1800;
  }

  /** Overrides the quota answer of one GitHub user id. */
  setQuota(userId: number, quota: Partial<CopilotQuota>): void {
    this.#quotas.set(userId, quota);
  }

  async start(): Promise<this> {
    await this.listen((req) => this.#handle(req));
    return this;
  }

  #identity(req: RecordedRequest): GithubIdentity | undefined {
    const check = this.world.github.checkAccess(bearer(req) ?? "");
    return check.ok ? check.identity : undefined;
  }

  #handle(req: RecordedRequest): Response {
    if (req.method !== "GET") return json({ message: "Not Found" }, 404);
    if (req.path === "/user") {
      const who = this.#identity(req);
      if (!who) return badCredentials();
      return json({ id: who.userId, login: who.login, email: who.email, type: "User" });
    }
    if (req.path === "/copilot_internal/v2/token") return this.#exchange(req);
    if (req.path === "/copilot_internal/user") return this.#quota(req);
    return json({ message: "Not Found" }, 404);
  }

  #exchange(req: RecordedRequest): Response {
    const token = bearer(req) ?? "";
    const check = this.world.github.checkAccess(token);
    if (!check.ok) return badCredentials();
    if (check.kind !== "ghu") {
      // gho_ tokens of the device-flow app are not entitled to the exchange.
      return json({ message: "Not Found", documentation_url: "https://docs.github.com/rest" }, 404);
    }
    const missing = REQUIRED_EDITOR_HEADERS.filter((h) => !req.headers[h]);
    if (missing.length > 0) {
      return json({ message: `Missing required header(s): ${missing.join(", ")}` }, 400);
    }
    this.exchangeCount++;
    const copilotToken = this.world.issueCopilotApiToken(check.identity, this.copilotTokenTtlSec);
    const nowSec = Math.floor(this.world.now() / 1000);
    return json({
      token: copilotToken,
      expires_at: nowSec + this.copilotTokenTtlSec,
      refresh_in: Math.max(0, this.copilotTokenTtlSec - 300),
      endpoints: { api: this.copilotUrl },
      sku: "copilot_for_individuals",
      chat_enabled: true,
    });
  }

  #quota(req: RecordedRequest): Response {
    if (!/^token\s/i.test(req.headers["authorization"] ?? "")) return badCredentials();
    const who = this.#identity(req);
    if (!who) return badCredentials();
    if (!req.headers["x-github-api-version"]) {
      return json({ message: "X-GitHub-Api-Version header is required" }, 400);
    }
    const override = this.#quotas.get(who.userId) ?? {};
    const now = new Date(this.world.now());
    const reset = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    const premium: PremiumQuota = {
      entitlement: 300,
      remaining: 250,
      percent_remaining: 83.3,
      unlimited: false,
      overage_permitted: false,
      overage_count: 0,
      ...override.premium_interactions,
    };
    return json({
      login: who.login,
      copilot_plan: override.copilot_plan ?? "individual",
      quota_reset_date: override.quota_reset_date ?? reset.toISOString().slice(0, 10),
      quota_snapshots: {
        premium_interactions: { ...premium, quota_id: "premium_interactions" },
        chat: { entitlement: 0, remaining: 0, percent_remaining: 100, unlimited: true },
        completions: { entitlement: 0, remaining: 0, percent_remaining: 100, unlimited: true },
      },
    });
  }
}

export async function startFakeGithubApi(
  world: FakeWorld,
  opts: GithubApiOptions = {},
): Promise<FakeGithubApi> {
  return await new FakeGithubApi(world, opts).start();
}

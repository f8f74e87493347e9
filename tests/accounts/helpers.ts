/** Shared set-up of the accounts tests: the fakes, deps pointed at them, fast refresh tuning. */
import { type AllFakes, type AllFakesOptions, startAllFakes } from "../fakes/mod.ts";
import { type TestDeps, testDeps } from "../support/test_deps.ts";
import { createApp } from "../../src/app.ts";
import type { Config, UpstreamOrigins } from "../../src/config.ts";
import type { RefreshDeps, RefreshTuning } from "../../src/accounts/refresh.ts";
import { credentialFixture } from "../support/fixtures.ts";
import { saveLogin } from "../../src/accounts/repository.ts";

export async function fixture(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(credentialFixture(name)));
}

export function upstreamOf(fakes: AllFakes): UpstreamOrigins {
  return {
    github: fakes.github.url,
    githubApi: fakes.githubApi.url,
    copilot: fakes.copilot.url,
    openaiAuth: fakes.openaiAuth.url,
    chatgpt: fakes.chatgpt.url,
    claudeAi: fakes.claudePlatform.url,
    claudePlatform: fakes.claudePlatform.url,
    anthropic: fakes.anthropic.url,
  };
}

export const FAST_TUNING: Partial<RefreshTuning> = {
  pollMs: 5,
  maxWaitMs: 2_000,
  backoffMs: [1, 2, 4],
};

export type Env = {
  fakes: AllFakes;
  deps: TestDeps & RefreshDeps;
  /** Admin API request through the app (no port). */
  // deno-lint-ignore no-explicit-any
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  /** The whole app, for requests other than the admin API's. */
  app: ReturnType<typeof createApp>;
  [Symbol.asyncDispose](): Promise<void>;
};

/** Fakes + deps whose clock also drives the fakes' world. */
export async function accountsEnv(
  options: {
    fakes?: AllFakesOptions;
    kv?: Deno.Kv;
    tuning?: Partial<RefreshTuning>;
    config?: Partial<Config>;
  } = {},
): Promise<Env> {
  const fakes = await startAllFakes(options.fakes);
  const deps = await testDeps({
    config: { ...options.config, upstream: upstreamOf(fakes) },
    ...(options.kv ? { kv: options.kv } : {}),
  }) as TestDeps & RefreshDeps;
  deps.refreshTuning = { ...FAST_TUNING, ...options.tuning };
  fakes.world.now = deps.clock.now;
  const app = createApp(deps);
  return {
    fakes,
    deps,
    app,
    async admin(method, path, body) {
      const res = await app.request(`/admin${path}`, {
        method,
        headers: {
          authorization: `Bearer ${deps.config.adminToken}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined
          ? {}
          : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
    async [Symbol.asyncDispose]() {
      await fakes.close();
      await deps[Symbol.asyncDispose]();
    },
  };
}

/**
 * A Codex or Claude account stored directly (no import, so no refresh at
 * import): for tests of the refresh path and of expiry that need an account
 * whose tokens are exactly the fake-issued ones.
 */
export async function seedAccount(
  env: Env,
  provider: "codex" | "claude",
  opts: { expiresInSec: number; accountId?: string },
): Promise<{ id: string; tokens: { access_token: string; refresh_token: string } }> {
  const world = env.fakes.world;
  const externalId = opts.accountId ?? crypto.randomUUID();
  const tokens = provider === "codex"
    ? world.issueCodexTokens({ accountId: externalId, expiresInSec: opts.expiresInSec })
    : world.issueClaudeTokens({ uuid: externalId, expiresInSec: opts.expiresInSec });
  const { account } = await saveLogin(env.deps, provider, {
    tokens: {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: Math.floor(env.deps.now() / 1000) * 1000 + opts.expiresInSec * 1000,
    },
    identity: { externalId, label: `${provider} ${externalId}` },
  }, { source: "test" });
  return { id: account.id, tokens };
}

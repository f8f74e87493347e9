/**
 * Test harness for the proxy: every backend fake on loopback, unit-test deps
 * (in-memory KV, movable clock shared with the fakes' world) whose upstream
 * origins point at the fakes, accounts saved through the accounts area's own
 * repository, and a Hono app with the proxy routes behind a stand-in for the
 * key middleware (which sets c.var.apiKey and the request id).
 */
import { Hono } from "hono";
import type { AppEnv } from "../../src/app_env.ts";
import { proxyRoutes } from "../../routes/proxy.ts";
import { acquireKeyLimits } from "../../src/keys/limits.ts";
import type { ProxyEngineOptions } from "../../src/proxy/engine.ts";
import type { StreamTiming } from "../../src/proxy/streaming.ts";
import { saveLogin } from "../../src/accounts/repository.ts";
import type { AccountRecord } from "../../src/model/accounts.ts";
import type { ApiKeyRecord } from "../../src/model/keys.ts";
import type { ProviderId } from "../../src/model/providers.ts";
import type { UsageEvent } from "../../src/usage/types.ts";
import { type AllFakes, startAllFakes } from "../fakes/mod.ts";
import { type TestDeps, testDeps } from "../support/test_deps.ts";
import type { UpstreamOrigins } from "../../src/config.ts";

export interface Harness {
  fakes: AllFakes;
  deps: TestDeps;
  usage: UsageEvent[];
  key: ApiKeyRecord;
  request(
    path: string,
    body: unknown,
    headers?: HeadersInit,
    signal?: AbortSignal,
  ): Promise<Response>;
  codexAccount(label: string, opts?: { priority?: number }): Promise<TestAccount>;
  claudeAccount(label: string): Promise<TestAccount>;
  copilotAccount(label: string): Promise<TestAccount>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface TestAccount {
  account: AccountRecord;
  accessToken: string;
}

export function testKey(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: "key_test",
    label: "test",
    hash: "0".repeat(64),
    prefix: "kleis_test00",
    createdAt: 0,
    updatedAt: 0,
    discoveryToken: "disc",
    ...overrides,
  };
}

export function upstreamOf(env: Record<string, string>): UpstreamOrigins {
  return {
    github: env.KLEIS_UPSTREAM_GITHUB!,
    githubApi: env.KLEIS_UPSTREAM_GITHUB_API!,
    copilot: env.KLEIS_UPSTREAM_COPILOT!,
    openaiAuth: env.KLEIS_UPSTREAM_OPENAI_AUTH!,
    chatgpt: env.KLEIS_UPSTREAM_CHATGPT!,
    claudeAi: env.KLEIS_UPSTREAM_CLAUDE_AI!,
    claudePlatform: env.KLEIS_UPSTREAM_CLAUDE_PLATFORM!,
    anthropic: env.KLEIS_UPSTREAM_ANTHROPIC!,
  };
}

export async function startHarness(
  options: { key?: ApiKeyRecord; timing?: Partial<StreamTiming>; engine?: ProxyEngineOptions } = {},
): Promise<Harness> {
  const fakes = await startAllFakes();
  const deps = await testDeps({ config: { upstream: Object.freeze(upstreamOf(fakes.env)) } });
  fakes.world.now = deps.clock.now;
  const usage: UsageEvent[] = [];
  let key = options.key ?? testKey();
  let counter = 0;
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    c.set("requestId", `req_${++counter}`);
    c.set("apiKey", key);
    c.set("keyLease", await acquireKeyLimits(deps, key));
    await next();
  });
  app.route(
    "/",
    proxyRoutes(deps, {
      ...options.engine,
      timing: { ...options.timing },
      services: {
        ...options.engine?.services,
        recordUsage: (_deps, event) => {
          usage.push(event);
          return Promise.resolve();
        },
      },
    }),
  );

  const save = async (
    provider: ProviderId,
    label: string,
    externalId: string,
    tokens: { accessToken: string; refreshToken?: string; expiresAt?: number },
  ): Promise<TestAccount> => {
    const { account } = await saveLogin(deps, provider, {
      tokens,
      identity: { externalId, label },
    }, { source: "test" });
    return { account, accessToken: tokens.accessToken };
  };

  return {
    fakes,
    deps,
    usage,
    get key() {
      return key;
    },
    set key(k: ApiKeyRecord) {
      key = k;
    },
    request: (path, body, headers = {}, signal) =>
      Promise.resolve(app.request(path, {
        method: "POST",
        ...(signal ? { signal } : {}),
        headers: {
          "content-type": "application/json",
          ...Object.fromEntries(new Headers(headers)),
        },
        body: typeof body === "string" ? body : JSON.stringify(body),
      })),
    async codexAccount(label) {
      const accountId = `chatgpt-${label}`;
      const t = fakes.world.issueCodexTokens({ accountId });
      return await save("codex", label, accountId, {
        accessToken: t.access_token,
        refreshToken: t.refresh_token,
        expiresAt: deps.now() + t.expires_in * 1000,
      });
    },
    async claudeAccount(label) {
      const uuid = crypto.randomUUID();
      const t = fakes.world.issueClaudeTokens({ uuid });
      return await save("claude", label, uuid, {
        accessToken: t.access_token,
        refreshToken: t.refresh_token,
        expiresAt: deps.now() + t.expires_in * 1000,
      });
    },
    async copilotAccount(label) {
      const token = fakes.world.issueCopilotToken({ login: label });
      return await save("copilot", label, `gh-${label}`, { accessToken: token });
    },
    async [Symbol.asyncDispose]() {
      await fakes.close();
      await deps[Symbol.asyncDispose]();
    },
  } as Harness;
}

/** Reads an SSE body whole and returns its data payloads parsed (non-JSON as strings). */
export async function sseData(res: Response): Promise<unknown[]> {
  const text = await res.text();
  return text.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => {
    const v = l.slice(5).trim();
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  });
}

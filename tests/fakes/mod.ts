/** Starts every backend fake on loopback, sharing one FakeWorld. */
import { type FakeAnthropic, startFakeAnthropic } from "./anthropic.ts";
import { type FakeChatgpt, startFakeChatgpt } from "./chatgpt.ts";
import {
  type ClaudePlatformOptions,
  type FakeClaudePlatform,
  startFakeClaudePlatform,
} from "./claude_platform.ts";
import { type FakeCopilot, startFakeCopilot } from "./copilot.ts";
import { type FakeGithub, type GithubOptions, startFakeGithub } from "./github.ts";
import { type FakeGithubApi, type GithubApiOptions, startFakeGithubApi } from "./github_api.ts";
import { type FakeModelsDev, startFakeModelsDev } from "./models_dev.ts";
import { type FakeOpenAIAuth, type OpenAIAuthOptions, startFakeOpenAIAuth } from "./openai_auth.ts";
import { FakeWorld } from "./world.ts";

export { FakeWorld } from "./world.ts";
export type { RecordedRequest } from "./server.ts";
export type { Chunking, SseEvent } from "./sse.ts";
export { CHUNKINGS, parseSse, readSse } from "./sse.ts";

export interface AllFakesOptions {
  world?: FakeWorld;
  github?: GithubOptions;
  githubApi?: Omit<GithubApiOptions, "copilotUrl">;
  openaiAuth?: OpenAIAuthOptions;
  claudePlatform?: ClaudePlatformOptions;
}

export interface AllFakes {
  world: FakeWorld;
  github: FakeGithub;
  githubApi: FakeGithubApi;
  copilot: FakeCopilot;
  openaiAuth: FakeOpenAIAuth;
  chatgpt: FakeChatgpt;
  claudePlatform: FakeClaudePlatform;
  anthropic: FakeAnthropic;
  modelsDev: FakeModelsDev;
  /** The `KLEIS_UPSTREAM_*` and `KLEIS_MODELS_DEV_URL` variables pointing at the fakes. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startAllFakes(opts: AllFakesOptions = {}): Promise<AllFakes> {
  const world = opts.world ?? new FakeWorld();
  const [copilot, github, openaiAuth, chatgpt, claudePlatform, anthropic, modelsDev] = await Promise
    .all([
      startFakeCopilot(world),
      startFakeGithub(world, opts.github),
      startFakeOpenAIAuth(world, opts.openaiAuth),
      startFakeChatgpt(world),
      startFakeClaudePlatform(world, opts.claudePlatform),
      startFakeAnthropic(world),
      startFakeModelsDev(world),
    ]);
  const githubApi = await startFakeGithubApi(world, { ...opts.githubApi, copilotUrl: copilot.url });
  const servers = {
    github,
    githubApi,
    copilot,
    openaiAuth,
    chatgpt,
    claudePlatform,
    anthropic,
    modelsDev,
  };
  return {
    world,
    ...servers,
    env: {
      KLEIS_UPSTREAM_GITHUB: github.url,
      KLEIS_UPSTREAM_GITHUB_API: githubApi.url,
      KLEIS_UPSTREAM_COPILOT: copilot.url,
      KLEIS_UPSTREAM_OPENAI_AUTH: openaiAuth.url,
      KLEIS_UPSTREAM_CHATGPT: chatgpt.url,
      // Nothing is fetched from claude.ai: only the authorize URL is built from it.
      KLEIS_UPSTREAM_CLAUDE_AI: claudePlatform.url,
      KLEIS_UPSTREAM_CLAUDE_PLATFORM: claudePlatform.url,
      KLEIS_UPSTREAM_ANTHROPIC: anthropic.url,
      KLEIS_MODELS_DEV_URL: modelsDev.apiUrl,
    },
    async close() {
      await Promise.all(Object.values(servers).map((f) => f.close()));
    },
  };
}
export * as failures from "./failures.ts";

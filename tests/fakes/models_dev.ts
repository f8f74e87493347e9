/** Fake of `https://models.dev/api.json`: a small, realistic subset of the registry. */
import { FakeServer, json, sleep } from "./server.ts";
import type { FakeWorld } from "./world.ts";

export interface ModelsDevModel {
  id: string;
  name: string;
  attachment: boolean;
  reasoning: boolean;
  tool_call: boolean;
  temperature: boolean;
  knowledge?: string;
  release_date: string;
  last_updated: string;
  modalities: { input: string[]; output: string[] };
  open_weights: boolean;
  cost: { input: number; output: number; cache_read?: number; cache_write?: number };
  limit: { context: number; output: number; input?: number };
}

export interface ModelsDevProvider {
  id: string;
  name: string;
  env: string[];
  npm: string;
  api?: string;
  doc: string;
  models: Record<string, ModelsDevModel>;
}

type Spec = [
  id: string,
  name: string,
  release: string,
  limit: [context: number, output: number, input?: number],
  cost: [input: number, output: number, cacheRead?: number, cacheWrite?: number],
  flags?: { reasoning?: boolean; temperature?: boolean; pdf?: boolean },
];

function models(specs: Spec[]): Record<string, ModelsDevModel> {
  const out: Record<string, ModelsDevModel> = {};
  for (const [id, name, release, limit, cost, flags = {}] of specs) {
    const [context, output, input] = limit;
    const [ci, co, cr, cw] = cost;
    out[id] = {
      id,
      name,
      attachment: true,
      reasoning: flags.reasoning ?? true,
      tool_call: true,
      temperature: flags.temperature ?? false,
      knowledge: release.slice(0, 7),
      release_date: release,
      last_updated: release,
      modalities: {
        input: flags.pdf ? ["text", "image", "pdf"] : ["text", "image"],
        output: ["text"],
      },
      open_weights: false,
      cost: {
        input: ci,
        output: co,
        ...(cr === undefined ? {} : { cache_read: cr }),
        ...(cw === undefined ? {} : { cache_write: cw }),
      },
      limit: input === undefined ? { context, output } : { context, output, input },
    };
  }
  return out;
}

export function modelsDevRegistry(): Record<string, ModelsDevProvider> {
  return {
    openai: {
      id: "openai",
      name: "OpenAI",
      env: ["OPENAI_API_KEY"],
      npm: "@ai-sdk/openai",
      doc: "https://platform.openai.com/docs/models",
      models: models([
        ["gpt-5.5", "GPT-5.5", "2026-04-23", [400000, 128000, 272000], [5, 30, 0.5]],
        ["gpt-5.4", "GPT-5.4", "2026-03-05", [400000, 128000, 272000], [2.5, 15, 0.25]],
        ["gpt-5.4-mini", "GPT-5.4 mini", "2026-03-17", [400000, 128000, 272000], [
          0.75,
          4.5,
          0.075,
        ]],
        ["gpt-5.3-codex", "GPT-5.3 Codex", "2026-02-05", [400000, 128000, 272000], [
          1.75,
          14,
          0.175,
        ]],
        ["gpt-5.2", "GPT-5.2", "2025-12-11", [400000, 128000, 272000], [1.75, 14, 0.175]],
        ["gpt-5.5-pro", "GPT-5.5 Pro", "2026-04-23", [400000, 128000, 272000], [30, 180]],
        ["gpt-4o", "GPT-4o", "2024-05-13", [128000, 16384], [2.5, 10, 1.25], {
          reasoning: false,
          temperature: true,
        }],
      ]),
    },
    anthropic: {
      id: "anthropic",
      name: "Anthropic",
      env: ["ANTHROPIC_API_KEY"],
      npm: "@ai-sdk/anthropic",
      doc: "https://docs.anthropic.com/en/docs/about-claude/models",
      models: models([
        ["claude-sonnet-4-5", "Claude Sonnet 4.5", "2025-09-29", [200000, 64000], [
          3,
          15,
          0.3,
          3.75,
        ], {
          temperature: true,
          pdf: true,
        }],
        ["claude-opus-4-5", "Claude Opus 4.5", "2025-11-24", [200000, 64000], [5, 25, 0.5, 6.25], {
          temperature: true,
          pdf: true,
        }],
        ["claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-15", [200000, 64000], [1, 5, 0.1, 1.25], {
          temperature: true,
          pdf: true,
        }],
      ]),
    },
    "github-copilot": {
      id: "github-copilot",
      name: "GitHub Copilot",
      env: ["GITHUB_TOKEN"],
      npm: "@ai-sdk/openai-compatible",
      api: "https://api.githubcopilot.com",
      doc: "https://docs.github.com/en/copilot",
      models: models([
        ["gpt-4.1", "GPT-4.1", "2025-04-14", [128000, 16384], [0, 0], {
          reasoning: false,
          temperature: true,
        }],
        ["gpt-5.2-codex", "GPT-5.2-Codex", "2025-12-11", [400000, 128000, 272000], [0, 0]],
        ["claude-sonnet-4.5", "Claude Sonnet 4.5", "2025-09-29", [128000, 16000], [0, 0], {
          temperature: true,
        }],
      ]),
    },
  };
}

export type ModelsDevMode = "ok" | "error" | "hang";

export class FakeModelsDev extends FakeServer {
  mode: ModelsDevMode = "ok";
  registry: Record<string, ModelsDevProvider> = modelsDevRegistry();

  /** `ok` answers; `error` answers 503; `hang` never answers (until the client gives up). */
  setMode(mode: ModelsDevMode): void {
    this.mode = mode;
  }

  /** Shorthand: `setDown(true)` is `setMode("error")`. */
  setDown(down: boolean): void {
    this.mode = down ? "error" : "ok";
  }

  /** Full URL of the registry, the value of `KLEIS_MODELS_DEV_URL`. */
  get apiUrl(): string {
    return `${this.url}/api.json`;
  }

  async start(): Promise<this> {
    await this.listen(async (req, signal) => {
      if (req.method !== "GET" || req.path !== "/api.json") {
        return json({ error: "Not found" }, 404);
      }
      if (this.mode === "hang") {
        await sleep(3_600_000, signal(), this.closers);
        return new Response(null, { status: 504 });
      }
      if (this.mode === "error") return new Response("Service Unavailable", { status: 503 });
      return json(this.registry);
    });
    return this;
  }
}

/** The world is not used (the registry is public); the parameter keeps the fakes uniform. */
export async function startFakeModelsDev(_world?: FakeWorld): Promise<FakeModelsDev> {
  return await new FakeModelsDev().start();
}

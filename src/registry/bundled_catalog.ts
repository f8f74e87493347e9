/**
 * The catalog Kleis answers with when models.dev has never been reachable:
 * the current models of the three providers in models.dev's own format, so
 * the rest of the registry code cannot tell the two apart. Limits are the
 * providers' published ones (Copilot's are the smaller windows Copilot
 * itself enforces). Costs are omitted: Kleis's own entry is free anyway.
 */
import type { ModelsDevModel, ModelsDevRegistry } from "./types.ts";

type Spec = [
  id: string,
  name: string,
  family: string,
  release: string,
  limit: [context: number, output: number, input?: number],
  flags?: { reasoning?: boolean; temperature?: boolean; pdf?: boolean; vision?: boolean },
];

function models(specs: Spec[]): Record<string, ModelsDevModel> {
  const out: Record<string, ModelsDevModel> = {};
  for (const [id, name, family, release, [context, output, input], flags = {}] of specs) {
    const inputs = ["text"];
    if (flags.vision ?? true) inputs.push("image");
    if (flags.pdf) inputs.push("pdf");
    out[id] = {
      id,
      name,
      family,
      attachment: flags.vision ?? true,
      reasoning: flags.reasoning ?? true,
      tool_call: true,
      temperature: flags.temperature ?? false,
      release_date: release,
      last_updated: release,
      modalities: { input: inputs, output: ["text"] },
      open_weights: false,
      limit: input === undefined ? { context, output } : { context, output, input },
    };
  }
  return out;
}

const CLAUDE = { temperature: true, pdf: true } as const;
const CHAT = { reasoning: false, temperature: true } as const;

/** A fresh copy each call: callers may not mutate a shared catalog. */
export function bundledCatalog(): ModelsDevRegistry {
  return {
    openai: {
      id: "openai",
      name: "OpenAI",
      env: ["OPENAI_API_KEY"],
      npm: "@ai-sdk/openai",
      doc: "https://platform.openai.com/docs/models",
      models: models([
        ["gpt-5.5", "GPT-5.5", "gpt", "2026-04-23", [400000, 128000, 272000]],
        ["gpt-5.4", "GPT-5.4", "gpt", "2026-03-05", [400000, 128000, 272000]],
        ["gpt-5.4-mini", "GPT-5.4 mini", "gpt-mini", "2026-03-17", [400000, 128000, 272000]],
        ["gpt-5.3-codex", "GPT-5.3 Codex", "gpt-codex", "2026-02-05", [400000, 128000, 272000]],
        ["gpt-5.3-codex-spark", "GPT-5.3 Codex Spark", "gpt-codex", "2026-02-12", [
          128000,
          32000,
        ], { vision: false }],
        ["gpt-5.2", "GPT-5.2", "gpt", "2025-12-11", [400000, 128000, 272000]],
      ]),
    },
    anthropic: {
      id: "anthropic",
      name: "Anthropic",
      env: ["ANTHROPIC_API_KEY"],
      npm: "@ai-sdk/anthropic",
      doc: "https://docs.anthropic.com/en/docs/about-claude/models",
      models: models([
        [
          "claude-opus-4-5",
          "Claude Opus 4.5",
          "claude-opus",
          "2025-11-24",
          [200000, 64000],
          CLAUDE,
        ],
        [
          "claude-sonnet-4-5",
          "Claude Sonnet 4.5",
          "claude-sonnet",
          "2025-09-29",
          [200000, 64000],
          CLAUDE,
        ],
        [
          "claude-haiku-4-5",
          "Claude Haiku 4.5",
          "claude-haiku",
          "2025-10-15",
          [200000, 64000],
          CLAUDE,
        ],
        [
          "claude-opus-4-1",
          "Claude Opus 4.1",
          "claude-opus",
          "2025-08-05",
          [200000, 32000],
          CLAUDE,
        ],
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
        ["gpt-4.1", "GPT-4.1", "gpt", "2025-04-14", [128000, 16384], CHAT],
        ["gpt-4o", "GPT-4o", "gpt", "2024-05-13", [128000, 4096, 64000], CHAT],
        ["gpt-5-mini", "GPT-5 mini", "gpt-mini", "2025-08-07", [264000, 64000, 128000]],
        ["gpt-5.2", "GPT-5.2", "gpt", "2025-12-11", [400000, 128000, 272000]],
        ["gpt-5.2-codex", "GPT-5.2-Codex", "gpt-codex", "2025-12-11", [400000, 128000, 272000]],
        ["claude-sonnet-4.5", "Claude Sonnet 4.5", "claude-sonnet", "2025-09-29", [
          200000,
          32000,
          128000,
        ], CLAUDE],
        ["claude-haiku-4.5", "Claude Haiku 4.5", "claude-haiku", "2025-10-15", [
          200000,
          32000,
          128000,
        ], CLAUDE],
        ["claude-opus-4.5", "Claude Opus 4.5", "claude-opus", "2025-11-24", [
          200000,
          32000,
          128000,
        ], CLAUDE],
      ]),
    },
  };
}

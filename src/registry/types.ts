/**
 * The models.dev registry format (https://models.dev/api.json), as far as
 * Kleis reads it. Everything else in an entry is passed through untouched in
 * /api.json, so these types name only the fields Kleis looks at.
 */

export interface ModelsDevModel {
  id: string;
  name: string;
  family?: string;
  attachment?: boolean;
  reasoning?: boolean;
  tool_call?: boolean;
  temperature?: boolean;
  structured_output?: boolean;
  interleaved?: unknown;
  knowledge?: string;
  release_date?: string;
  last_updated?: string;
  modalities?: { input: string[]; output: string[] };
  open_weights?: boolean;
  status?: string;
  cost?: Record<string, unknown>;
  limit?: { context?: number; output?: number; input?: number };
}

export interface ModelsDevProvider {
  id: string;
  name: string;
  env: string[];
  npm?: string;
  api?: string;
  doc?: string;
  models: Record<string, ModelsDevModel>;
}

export type ModelsDevRegistry = Record<string, ModelsDevProvider>;

/** The models.dev provider ids Kleis takes model facts from. */
export const SOURCE_PROVIDER = {
  codex: "openai",
  claude: "anthropic",
  copilot: "github-copilot",
} as const;

/** A model entry of the `kleis` provider in /api.json. */
export interface KleisModelEntry {
  id: string;
  name: string;
  family?: string;
  attachment: boolean;
  reasoning: boolean;
  tool_call: boolean;
  temperature: boolean;
  interleaved?: unknown;
  structured_output?: boolean;
  knowledge?: string;
  release_date: string;
  last_updated?: string;
  modalities: { input: string[]; output: string[] };
  open_weights: boolean;
  cost: { input: 0; output: 0; cache_read: 0; cache_write: 0 };
  limit: { context: number; output: number; input?: number };
  provider: { npm: string; api: string };
}

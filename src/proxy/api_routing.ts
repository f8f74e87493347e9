/**
 * Which backend API a resolved model is called through for a client of a
 * given API shape: the client's own when the backend speaks it (no
 * translation), else the backend's native one.
 *
 * - Codex: Responses only.
 * - Claude: Messages only.
 * - Copilot: per model. Claude models take Messages and Chat Completions,
 *   Responses-only models (GPT-5.x, Codex) only Responses, the others Chat
 *   Completions (the registry's live list decides, else the naming rule).
 */
import { copilotApiKind } from "../providers/copilot/models.ts";
import type { ApiShape } from "../translate/translation.ts";
import type { ResolvedModel } from "./model_resolution.ts";

/** The API kind the registry recorded for a Copilot model, by the AI SDK package it names. */
const KIND_OF_NPM: Record<string, ApiShape> = {
  "@ai-sdk/anthropic": "messages",
  "@ai-sdk/openai": "responses",
  "@ai-sdk/openai-compatible": "chat",
};

export function backendApis(resolved: ResolvedModel): readonly ApiShape[] {
  if (resolved.provider === "codex") return ["responses"];
  if (resolved.provider === "claude") return ["messages"];
  const kind = (resolved.offered ? KIND_OF_NPM[resolved.offered.npm] : undefined) ??
    copilotApiKind(resolved.model);
  return kind === "messages" ? ["messages", "chat"] : [kind];
}

export function backendApiFor(resolved: ResolvedModel, client: ApiShape): ApiShape {
  const apis = backendApis(resolved);
  return apis.includes(client) ? client : apis[0]!;
}

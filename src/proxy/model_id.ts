/**
 * Model id normalisation (docs/api.md#proxy-routes): the plain id or one with
 * the route's own provider prefix is accepted and the prefix stripped; a
 * prefix that belongs to another provider is a mistake worth a clear 400.
 */
import { badRequest } from "../errors.ts";
import { PROVIDER_IDS, type ProviderId } from "../model/providers.ts";
import { proxyAdapter } from "../providers/mod.ts";

/**
 * Longest model id accepted: real ids are tens of characters, and the id
 * becomes part of KV keys (per-model cooldowns, usage buckets).
 */
export const MAX_MODEL_LENGTH = 200;

export function normalizeModel(provider: ProviderId, model: string): string {
  if (model.length > MAX_MODEL_LENGTH) {
    throw badRequest(
      "invalid_model",
      `The model id is longer than ${MAX_MODEL_LENGTH} characters.`,
    );
  }
  for (const prefix of proxyAdapter(provider).modelPrefixes) {
    if (model.startsWith(prefix)) {
      const plain = model.slice(prefix.length);
      if (plain === "") throw badRequest("invalid_model", `The model "${model}" names no model.`);
      return plain;
    }
  }
  for (const other of PROVIDER_IDS) {
    if (other === provider) continue;
    const prefix = proxyAdapter(other).modelPrefixes.find((p) => model.startsWith(p));
    if (prefix !== undefined) {
      throw badRequest(
        "wrong_provider",
        `The model "${model}" belongs to another provider (prefix "${prefix}"); ` +
          `send it to that provider's route.`,
      );
    }
  }
  return model;
}

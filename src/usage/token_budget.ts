// PLACEHOLDER until the analytics area (issue 6) replaces it.
import type { Deps } from "../deps.ts";
import type { ApiKeyRecord } from "../keys/types.ts";

/** Throws 429 (Retry-After until midnight UTC) once a key's tokens today reach tokensPerDay. */
export async function checkTokenBudget(_deps: Deps, _key: ApiKeyRecord): Promise<void> {
  await Promise.resolve();
}

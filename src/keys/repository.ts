/**
 * API key records in KV. The record lives at keys.apiKey(id); two indexes
 * (secret hash → id, discovery token → id) hold only the id and change in
 * the same atomic commit as the record (see service.ts).
 */
import { keys } from "../kv/keys.ts";
import type { ApiKeyRecord } from "../model/keys.ts";

export async function getApiKey(kv: Deno.Kv, id: string): Promise<ApiKeyRecord | undefined> {
  return (await kv.get<ApiKeyRecord>(keys.apiKey(id))).value ?? undefined;
}

/** Every key, oldest first. */
export async function listApiKeys(kv: Deno.Kv): Promise<ApiKeyRecord[]> {
  const out: ApiKeyRecord[] = [];
  for await (const entry of kv.list<ApiKeyRecord>({ prefix: keys.apiKeysPrefix() })) {
    out.push(entry.value);
  }
  return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

/**
 * The key a discovery token belongs to, whatever its state: callers decide
 * with isKeyUsable() (validity.ts) whether it may still be used.
 */
export async function getApiKeyByDiscoveryToken(
  kv: Deno.Kv,
  token: string,
): Promise<ApiKeyRecord | undefined> {
  const id = (await kv.get<string>(keys.apiKeyByDiscoveryToken(token))).value;
  return id ? await getApiKey(kv, id) : undefined;
}

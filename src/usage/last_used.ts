/** When an API key or an account last served a request, as recorded by usage ingestion. */
import { keys } from "../kv/keys.ts";

/** Milliseconds since the epoch, or undefined when never used (or not yet ingested). */
export async function getLastUsed(
  kv: Deno.Kv,
  kind: "key" | "account",
  id: string,
): Promise<number | undefined> {
  const entry = await kv.get<Deno.KvU64>(keys.lastUsed(kind, id));
  return entry.value instanceof Deno.KvU64 ? Number(entry.value.value) : undefined;
}

/** The same for many ids at once (admin listings), read ten at a time. */
export async function getLastUsedMany(
  kv: Deno.Kv,
  kind: "key" | "account",
  ids: string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 10) {
    const slice = ids.slice(i, i + 10);
    const entries = await kv.getMany<Deno.KvU64[]>(slice.map((id) => keys.lastUsed(kind, id)));
    entries.forEach((entry, j) => {
      if (entry.value instanceof Deno.KvU64) out.set(slice[j]!, Number(entry.value.value));
    });
  }
  return out;
}

/**
 * The models.dev registry: fetched in the background, cached in KV, read by
 * /api.json without ever waiting on models.dev.
 *
 * Storage: the real registry is ~1 MB of JSON and a KV value holds 64 KiB,
 * so the JSON is gzip-compressed (≈ 10×) and split into ≤ 60 KiB chunks under
 * a fresh version id. The chunks are written first (invisible: nothing points
 * at them), then one atomic commit swaps the pointer at keys.modelsDevCache()
 * to the new version, then chunks of every other version are deleted. A
 * process dying at any step leaves the previous copy readable; orphan chunks
 * are swept by the next successful refresh. A reader that loses a race with
 * the sweep re-reads the pointer.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import { randomId } from "../crypto.ts";
import type { ModelsDevRegistry } from "./types.ts";
import { discardBody } from "../body_drain.ts";
import { runtimeSlot } from "../runtime.ts";

export const CHUNK_BYTES = 60 * 1024;
/** Chunks per atomic commit: 8 × 60 KiB stays under KV's 800 KiB per-commit cap. */
const CHUNKS_PER_COMMIT = 8;
/** Larger answers are refused rather than cached (the real one is ~1 MB). */
export const MAX_REGISTRY_BYTES = 32 * 1024 * 1024;
export const FETCH_TIMEOUT_MS = 15_000;

export interface CachePointer {
  version: string;
  fetchedAt: number;
  chunks: number;
  /** Compressed size. */
  bytes: number;
  /** SHA-256 hex of the compressed bytes, checked on read. */
  sha256: string;
  providers: number;
}

export interface FetchStatus {
  lastAttemptAt: number;
  lastSuccessAt?: number;
  lastError?: string;
}

export interface CachedRegistry {
  pointer: CachePointer;
  /** Compact JSON text of the registry (no `kleis` key). */
  text: string;
  registry: ModelsDevRegistry;
}

async function digestHex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function transform(bytes: Uint8Array, stream: CompressionStream | DecompressionStream) {
  const out = new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

export const gzip = (bytes: Uint8Array) => transform(bytes, new CompressionStream("gzip"));
export const gunzip = (bytes: Uint8Array) => transform(bytes, new DecompressionStream("gzip"));

/**
 * Checks the shape OpenCode and Kleis rely on: an object of providers, each
 * with a `models` object. Returns the registry without any `kleis` entry
 * (Kleis adds its own). Throws with a sentence naming what is wrong.
 */
export function validateRegistry(value: unknown): ModelsDevRegistry {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("the registry is not a JSON object");
  }
  const out: ModelsDevRegistry = {};
  for (const [id, provider] of Object.entries(value as Record<string, unknown>)) {
    if (id === "kleis") continue;
    const p = provider as { models?: unknown } | null;
    if (typeof p !== "object" || p === null || typeof p.models !== "object" || !p.models) {
      throw new Error(`provider "${id}" has no models object`);
    }
    out[id] = provider as ModelsDevRegistry[string];
  }
  if (Object.keys(out).length === 0) throw new Error("the registry lists no provider");
  return out;
}

async function readBody(res: Response): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_REGISTRY_BYTES) throw new Error(`the answer is larger than the cap`);
  const text = await res.text();
  if (text.length > MAX_REGISTRY_BYTES) throw new Error(`the answer is larger than the cap`);
  return text;
}

/** Fetches models.dev once and stores it. Throws (after recording the error) on failure. */
export async function refreshModelsDev(
  deps: Pick<Deps, "kv" | "config" | "fetch" | "now" | "random" | "log" | "runtime">,
  options: { timeoutMs?: number } = {},
): Promise<CachePointer> {
  const startedAt = deps.now();
  const previous = (await deps.kv.get<FetchStatus>(keys.modelsDevStatus())).value;
  try {
    const res = await deps.fetch(deps.config.modelsDevUrl, {
      headers: { accept: "application/json", "user-agent": "kleis" },
      signal: AbortSignal.timeout(options.timeoutMs ?? FETCH_TIMEOUT_MS),
    });
    if (!res.ok) {
      // Read to the end (bounded), so the connection can be reused.
      await discardBody(res);
      throw new Error(`models.dev answered ${res.status}`);
    }
    const registry = validateRegistry(JSON.parse(await readBody(res)));
    const pointer = await storeRegistry(deps, registry, startedAt);
    await deps.kv.set(
      keys.modelsDevStatus(),
      {
        lastAttemptAt: startedAt,
        lastSuccessAt: startedAt,
      } satisfies FetchStatus,
    );
    deps.log.info("Cached the models.dev registry.", {
      providers: pointer.providers,
      compressedBytes: pointer.bytes,
    });
    return pointer;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const status: FetchStatus = { lastAttemptAt: startedAt, lastError: message };
    if (previous?.lastSuccessAt !== undefined) status.lastSuccessAt = previous.lastSuccessAt;
    await deps.kv.set(keys.modelsDevStatus(), status);
    deps.log.warn("Could not refresh the models.dev registry; the cached copy stays.", {
      url: deps.config.modelsDevUrl,
      error: message,
    });
    throw error;
  }
}

/** Writes a registry as a new version and makes it current (see the file comment). */
export async function storeRegistry(
  deps: Pick<Deps, "kv" | "random" | "runtime">,
  registry: ModelsDevRegistry,
  fetchedAt: number,
): Promise<CachePointer> {
  const compressed = await gzip(new TextEncoder().encode(JSON.stringify(registry)));
  const version = randomId(deps.random);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < compressed.length; at += CHUNK_BYTES) {
    chunks.push(compressed.subarray(at, at + CHUNK_BYTES));
  }
  for (let first = 0; first < chunks.length; first += CHUNKS_PER_COMMIT) {
    const op = deps.kv.atomic();
    chunks.slice(first, first + CHUNKS_PER_COMMIT).forEach((chunk, i) => {
      op.set(keys.modelsDevChunk(version, first + i), chunk);
    });
    const result = await op.commit();
    if (!result.ok) throw new Error("KV refused the registry chunks");
  }
  const pointer: CachePointer = {
    version,
    fetchedAt,
    chunks: chunks.length,
    bytes: compressed.length,
    sha256: await digestHex(compressed),
    providers: Object.keys(registry).length,
  };
  // Last writer wins: two instances refreshing at once both hold a full copy.
  await deps.kv.set(keys.modelsDevCache(), pointer);
  deps.runtime.get(POINTER_WRITES).count++;
  await sweepChunks(deps.kv, version);
  return pointer;
}

/** Deletes every chunk not of `keep`, whatever left it there. */
async function sweepChunks(kv: Deno.Kv, keep: string): Promise<void> {
  const current = (await kv.get<CachePointer>(keys.modelsDevCache())).value?.version;
  for await (const entry of kv.list({ prefix: keys.modelsDevChunksPrefix() })) {
    const version = entry.key[1];
    if (version !== keep && version !== current) await kv.delete(entry.key);
  }
}

const POINTER_WRITES = runtimeSlot("registry.pointerWrites", () => ({ count: 0 }));

/** How many times this app has moved the pointer (readers cache the pointer). */
export function localPointerWrites(deps: Pick<Deps, "runtime">): number {
  return deps.runtime.get(POINTER_WRITES).count;
}

export function readCachePointer(kv: Deno.Kv): Promise<Deno.KvEntryMaybe<CachePointer>> {
  return kv.get<CachePointer>(keys.modelsDevCache());
}

/** Loads the chunks a pointer names; undefined when they are gone (a newer copy replaced them). */
async function loadChunks(kv: Deno.Kv, pointer: CachePointer): Promise<Uint8Array | undefined> {
  const out = new Uint8Array(pointer.bytes);
  let at = 0;
  for (let first = 0; first < pointer.chunks; first += 10) {
    const batch = [];
    for (let i = first; i < Math.min(first + 10, pointer.chunks); i++) {
      batch.push(keys.modelsDevChunk(pointer.version, i));
    }
    for (const entry of await kv.getMany<Uint8Array[]>(batch)) {
      if (!(entry.value instanceof Uint8Array)) return undefined;
      out.set(entry.value, at);
      at += entry.value.length;
    }
  }
  if (at !== pointer.bytes || await digestHex(out) !== pointer.sha256) return undefined;
  return out;
}

/** The registry a pointer names, or undefined if it was replaced meanwhile or is damaged. */
export async function loadRegistry(
  kv: Deno.Kv,
  pointer: CachePointer,
): Promise<CachedRegistry | undefined> {
  const compressed = await loadChunks(kv, pointer);
  if (!compressed) return undefined;
  const text = new TextDecoder().decode(await gunzip(compressed));
  return { pointer, text, registry: JSON.parse(text) as ModelsDevRegistry };
}

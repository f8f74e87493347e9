/**
 * The registry a request uses, without ever waiting on models.dev: the KV
 * copy when there is one (parsed once per version and kept in memory; one KV
 * read per request tells whether another instance stored a newer version),
 * else the bundled catalog at once while a background fetch starts.
 */
import type { Deps } from "../deps.ts";
import { bundledCatalog } from "./bundled_catalog.ts";
import {
  type CachedRegistry,
  loadRegistry,
  readCachePointer,
  refreshModelsDev,
} from "./models_dev.ts";
import type { ModelsDevRegistry } from "./types.ts";

/** A copy older than this makes a request start a background refresh (the cron job may be off). */
export const STALE_AFTER_MS = 6 * 60 * 60_000;
/** A process starts a request-triggered fetch at most this often. */
export const KICK_INTERVAL_MS = 60_000;

export interface RegistrySnapshot {
  source: "models.dev" | "bundled";
  fetchedAt?: number;
  registry: ModelsDevRegistry;
  /** Compact JSON of `registry`. */
  text: string;
}

type SnapshotDeps = Pick<Deps, "kv" | "config" | "fetch" | "now" | "random" | "log">;

interface ProcessState {
  loaded?: CachedRegistry;
  inflight?: Promise<void>;
  lastKickAt?: number;
}

const states = new WeakMap<Deno.Kv, ProcessState>();
function stateOf(kv: Deno.Kv): ProcessState {
  let state = states.get(kv);
  if (!state) states.set(kv, state = {});
  return state;
}

let bundled: RegistrySnapshot | undefined;
function bundledSnapshot(): RegistrySnapshot {
  if (!bundled) {
    const registry = bundledCatalog();
    bundled = { source: "bundled", registry, text: JSON.stringify(registry) };
  }
  return bundled;
}

/** Starts one background fetch unless one runs or one started recently in this process. */
export function kickRefresh(deps: SnapshotDeps): void {
  const state = stateOf(deps.kv);
  if (state.inflight) return;
  if (state.lastKickAt !== undefined && deps.now() - state.lastKickAt < KICK_INTERVAL_MS) return;
  state.lastKickAt = deps.now();
  state.inflight = refreshModelsDev(deps)
    .then(() => {}, () => {}) // logged and recorded by refreshModelsDev
    .finally(() => {
      delete state.inflight;
    });
}

/** Resolves when the background fetch this process started (if any) is done. */
export async function settleRegistryRefresh(kv: Deno.Kv): Promise<void> {
  await stateOf(kv).inflight;
}

export async function getRegistrySnapshot(deps: SnapshotDeps): Promise<RegistrySnapshot> {
  const state = stateOf(deps.kv);
  // A refresh may sweep the chunks of the version just read: read the pointer again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const pointer = (await readCachePointer(deps.kv)).value;
    if (!pointer) break;
    let cached = state.loaded?.pointer.version === pointer.version ? state.loaded : undefined;
    if (!cached) {
      try {
        cached = await loadRegistry(deps.kv, pointer);
      } catch (error) {
        deps.log.warn("The cached models.dev copy could not be read.", {
          error: error instanceof Error ? error.message : String(error),
        });
        break;
      }
      if (!cached) continue;
      state.loaded = cached;
    }
    if (deps.now() - pointer.fetchedAt > STALE_AFTER_MS) kickRefresh(deps);
    return {
      source: "models.dev",
      fetchedAt: pointer.fetchedAt,
      registry: cached.registry,
      text: cached.text,
    };
  }
  kickRefresh(deps);
  return bundledSnapshot();
}

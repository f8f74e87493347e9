/**
 * The registry a request uses, without ever waiting on models.dev: the KV
 * copy when there is one (parsed once per version and kept in memory), else
 * the bundled catalog at once while a background fetch starts.
 *
 * Each instance re-reads the pointer to the current version at most once per
 * POINTER_RECHECK_MS (injected clock): a version another instance stores is
 * used here within that time, one this instance stores at once.
 */
import type { Deps } from "../deps.ts";
import { bundledCatalog } from "./bundled_catalog.ts";
import {
  type CachedRegistry,
  type CachePointer,
  loadRegistry,
  localPointerWrites,
  readCachePointer,
  refreshModelsDev,
} from "./models_dev.ts";
import type { ModelsDevRegistry } from "./types.ts";
import { runtimeSlot } from "../runtime.ts";

/** A copy older than this makes a request start a background refresh (the cron job may be off). */
export const STALE_AFTER_MS = 6 * 60 * 60_000;
/** An app starts a request-triggered fetch at most this often. */
export const KICK_INTERVAL_MS = 60_000;
/** How often a request re-reads the registry pointer from KV (per app). */
export const POINTER_RECHECK_MS = 1_000;

export interface RegistrySnapshot {
  source: "models.dev" | "bundled";
  fetchedAt?: number;
  registry: ModelsDevRegistry;
  /** Compact JSON of `registry`. */
  text: string;
}

type SnapshotDeps = Pick<Deps, "kv" | "config" | "fetch" | "now" | "random" | "log" | "runtime">;

interface ProcessState {
  loaded?: CachedRegistry;
  inflight?: Promise<void>;
  lastKickAt?: number;
  /** The pointer as last read, when, and how many local pointer writes there had been. */
  pointer?: { value: CachePointer | null; at: number; writes: number };
  pointerRead?: { promise: Promise<CachePointer | null>; writes: number };
  /** The snapshot object handed out for `loaded`, so callers may memoise on it. */
  snapshot?: RegistrySnapshot;
}

/** This app's registry state; `bundled` is built on first use. */
const STATE = runtimeSlot(
  "registry.snapshot",
  (): ProcessState & { bundled?: RegistrySnapshot } => ({}),
);

function bundledSnapshot(deps: SnapshotDeps): RegistrySnapshot {
  const state = deps.runtime.get(STATE);
  if (!state.bundled) {
    const registry = bundledCatalog();
    state.bundled = { source: "bundled", registry, text: JSON.stringify(registry) };
  }
  return state.bundled;
}

/**
 * Starts one background fetch unless one runs or one started recently in
 * this app (deps.runtime.settled() waits for it).
 */
export function kickRefresh(deps: SnapshotDeps): void {
  const state = deps.runtime.get(STATE);
  if (state.inflight) return;
  if (state.lastKickAt !== undefined && deps.now() - state.lastKickAt < KICK_INTERVAL_MS) return;
  state.lastKickAt = deps.now();
  state.inflight = refreshModelsDev(deps)
    .then(() => {}, () => {}) // logged and recorded by refreshModelsDev
    .finally(() => {
      delete state.inflight;
    });
  deps.runtime.track(state.inflight);
}

/** The pointer, from memory when read within POINTER_RECHECK_MS and not moved here since. */
async function currentPointer(
  deps: SnapshotDeps,
  state: ProcessState,
  reread: boolean,
): Promise<CachePointer | null> {
  const now = deps.now();
  const writes = localPointerWrites(deps);
  const known = state.pointer;
  if (
    !reread && known && known.writes === writes && now >= known.at &&
    now - known.at < POINTER_RECHECK_MS
  ) return known.value;
  // Requests arriving together on an expired copy share one read.
  const pending = state.pointerRead;
  if (!reread && pending && pending.writes === writes) return await pending.promise;
  const promise = readCachePointer(deps.kv).then((entry) => {
    state.pointer = { value: entry.value, at: now, writes };
    return entry.value;
  }).finally(() => {
    if (state.pointerRead?.promise === promise) delete state.pointerRead;
  });
  state.pointerRead = { promise, writes };
  return await promise;
}

export async function getRegistrySnapshot(deps: SnapshotDeps): Promise<RegistrySnapshot> {
  const state = deps.runtime.get(STATE);
  // A refresh may sweep the chunks of the version just read: read the pointer again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const pointer = await currentPointer(deps, state, attempt > 0);
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
    if (
      state.snapshot?.registry !== cached.registry || state.snapshot.fetchedAt !== pointer.fetchedAt
    ) {
      state.snapshot = {
        source: "models.dev",
        fetchedAt: pointer.fetchedAt,
        registry: cached.registry,
        text: cached.text,
      };
    }
    return state.snapshot;
  }
  kickRefresh(deps);
  return bundledSnapshot(deps);
}

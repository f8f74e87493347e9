/**
 * Copilot's live model list per account, cached in KV. A fresh copy (under
 * FRESH_MS) is used as is; a stale one is used while a background fetch
 * replaces it; with no copy, the request path fetches with a short timeout
 * and falls back to models.dev's `github-copilot` list when that fails. The
 * cron job refreshes every enabled account's copy.
 *
 * Each instance re-reads an account's KV copy at most once per
 * KV_RECHECK_MS (a copy another instance stores shows here within that
 * time; one this instance stores, at once) and keeps the same object while
 * the copy is unchanged, so callers may memoise on it.
 */
import type { Deps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import type { AccountRecord } from "../model/accounts.ts";
import { getUpstreamCredentials } from "../accounts/credentials.ts";
import { withAccountEgress } from "../accounts/egress.ts";
import {
  type CopilotEmbeddingModel,
  type CopilotLiveModel,
  requestCopilotModels,
} from "../providers/copilot/models.ts";
import { runtimeSlot } from "../runtime.ts";

export const FRESH_MS = 60 * 60_000;
/** KV cleanup only; staleness is judged from fetchedAt. */
const KEEP_MS = 7 * 24 * 60 * 60_000;
/** How long a request may wait for a first fetch of an account's list. */
export const REQUEST_FETCH_TIMEOUT_MS = 3_000;
const BACKGROUND_FETCH_TIMEOUT_MS = 15_000;
/** After a failed fetch, requests do not try again for this long (per app). */
const RETRY_AFTER_FAILURE_MS = 60_000;
/** How often a request re-reads an account's cached list from KV (per app). */
export const KV_RECHECK_MS = 1_000;

export interface CopilotModelsCacheEntry {
  fetchedAt: number;
  models: CopilotLiveModel[];
  /** Absent in copies stored before Kleis kept embedding models (read as unknown). */
  embeddings?: CopilotEmbeddingModel[];
}

/** Fetches one account's list now and caches it. Throws on any failure. */
export async function fetchCopilotModels(
  deps: Deps,
  account: AccountRecord,
  timeoutMs = BACKGROUND_FETCH_TIMEOUT_MS,
): Promise<CopilotModelsCacheEntry> {
  const credentials = await getUpstreamCredentials(deps, account);
  const entry: CopilotModelsCacheEntry = {
    fetchedAt: deps.now(),
    ...await requestCopilotModels(withAccountEgress(deps, account), credentials, timeoutMs),
  };
  const stored = await deps.kv.set(keys.copilotModelsCache(account.id), entry, {
    expireIn: KEEP_MS,
  });
  deps.runtime.get(STATE).read.set(account.id, {
    entry,
    versionstamp: stored.versionstamp,
    at: deps.now(),
  });
  return entry;
}

interface ReadCopy {
  entry: CopilotModelsCacheEntry | undefined;
  versionstamp: string | null;
  /** When this app last read (or wrote) the KV copy. */
  at: number;
}

interface ProcessState {
  inflight: Map<string, Promise<CopilotModelsCacheEntry | undefined>>;
  failedAt: Map<string, number>;
  read: Map<string, ReadCopy>;
  reading: Map<string, Promise<CopilotModelsCacheEntry | undefined>>;
}
/** This app's Copilot model lists: fetches in flight, failures, KV copies read. */
const STATE = runtimeSlot("registry.copilotModels", (): ProcessState => ({
  inflight: new Map(),
  failedAt: new Map(),
  read: new Map(),
  reading: new Map(),
}));

/** The account's KV copy, read at most once per KV_RECHECK_MS (see the file comment). */
async function readCopy(
  deps: Pick<Deps, "kv" | "now" | "runtime">,
  accountId: string,
): Promise<CopilotModelsCacheEntry | undefined> {
  const state = deps.runtime.get(STATE);
  const now = deps.now();
  const known = state.read.get(accountId);
  if (known && now >= known.at && now - known.at < KV_RECHECK_MS) return known.entry;
  // Requests arriving together on an expired copy share one read.
  let reading = state.reading.get(accountId);
  if (!reading) {
    reading = rereadCopy(deps, accountId, known, now).finally(() => {
      state.reading.delete(accountId);
    });
    state.reading.set(accountId, reading);
  }
  return await reading;
}

async function rereadCopy(
  deps: Pick<Deps, "kv" | "now" | "runtime">,
  accountId: string,
  known: ReadCopy | undefined,
  now: number,
): Promise<CopilotModelsCacheEntry | undefined> {
  const read = deps.runtime.get(STATE).read;
  const got = await deps.kv.get<CopilotModelsCacheEntry>(keys.copilotModelsCache(accountId));
  const latest = read.get(accountId);
  // A fetch here stored a newer copy while this read was under way: keep that one.
  if (latest?.versionstamp && got.versionstamp && latest.versionstamp > got.versionstamp) {
    return latest.entry;
  }
  // Unchanged in KV: keep the object callers may have memoised on.
  const entry = known && got.versionstamp !== null && got.versionstamp === known.versionstamp
    ? known.entry
    : got.value ?? undefined;
  read.set(accountId, { entry, versionstamp: got.versionstamp, at: now });
  return entry;
}

/** One fetch per account at a time in this app; failures are logged, never thrown. */
function fetchOnce(
  deps: Deps,
  account: AccountRecord,
  timeoutMs: number,
): Promise<CopilotModelsCacheEntry | undefined> {
  const state = deps.runtime.get(STATE);
  const running = state.inflight.get(account.id);
  if (running) return running;
  const promise = fetchCopilotModels(deps, account, timeoutMs)
    .then((entry) => {
      state.failedAt.delete(account.id);
      return entry;
    }, (error) => {
      state.failedAt.set(account.id, deps.now());
      deps.log.warn("Could not fetch the Copilot model list.", {
        accountId: account.id,
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    })
    .finally(() => state.inflight.delete(account.id));
  state.inflight.set(account.id, promise);
  deps.runtime.track(promise);
  return promise;
}

/**
 * An account's live models for a request: cached (fresh or stale), else one
 * short fetch; undefined when none can be had (the caller falls back).
 */
export async function copilotModelsForAccount(
  deps: Deps,
  account: AccountRecord,
): Promise<CopilotLiveModel[] | undefined> {
  return (await copilotListForAccount(deps, account))?.models;
}

/** The account's whole cached list (chat and embedding models), found as above. */
export async function copilotListForAccount(
  deps: Deps,
  account: AccountRecord,
): Promise<CopilotModelsCacheEntry | undefined> {
  const cached = await readCopy(deps, account.id);
  if (cached) {
    if (deps.now() - cached.fetchedAt >= FRESH_MS) {
      void fetchOnce(deps, account, BACKGROUND_FETCH_TIMEOUT_MS);
    }
    return cached;
  }
  const failedAt = deps.runtime.get(STATE).failedAt.get(account.id);
  if (failedAt !== undefined && deps.now() - failedAt < RETRY_AFTER_FAILURE_MS) return undefined;
  return await fetchOnce(deps, account, REQUEST_FETCH_TIMEOUT_MS);
}

/** Hono environment shared by every route: per-request variables. */
import type { ApiKeyRecord } from "./model/keys.ts";

export interface AppEnv {
  Variables: {
    requestId: string;
    /** Set by the API key middleware on proxy routes. */
    apiKey: ApiKeyRecord;
    /**
     * Set with apiKey: the request's admission under the key's limits
     * (keys/limits.ts KeyLease); releasing it frees its concurrency slot.
     */
    keyLease: { release(): Promise<void> };
  };
}

/** Hono environment shared by every route: per-request variables. */
import type { ApiKeyRecord } from "./keys/types.ts";

export interface AppEnv {
  Variables: {
    requestId: string;
    /** Set by the API key middleware on proxy routes. */
    apiKey: ApiKeyRecord;
  };
}

/** Hono environment shared by every route: per-request variables. */
import type { ApiKeyRecord } from "./model/keys.ts";

export interface AppEnv {
  Variables: {
    requestId: string;
    /** Set by the API key middleware on proxy routes. */
    apiKey: ApiKeyRecord;
  };
}

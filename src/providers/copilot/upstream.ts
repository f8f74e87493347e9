/** The upstream request of one attempt: the account's API base, its bearer, the prepared body. */
import type { AttemptContext, UpstreamRequest } from "../proxy_types.ts";

export function copilotUpstream(
  path: string,
  headers: Record<string, string>,
  body: string,
): (attempt: AttemptContext) => Promise<UpstreamRequest> {
  return (attempt) => {
    const base = (attempt.credentials.apiBase ?? attempt.upstream.copilot).replace(/\/+$/, "");
    const h = new Headers(headers);
    h.set("authorization", `Bearer ${attempt.credentials.accessToken}`);
    return Promise.resolve({ url: `${base}${path}`, headers: h, body });
  };
}

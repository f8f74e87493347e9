/**
 * The response header allowlist (docs/api.md#proxy-routes): a client sees the
 * backend's content type, caching and request ids, and its rate-limit
 * headers; never set-cookie or anything else the backend happens to send.
 */

const ALLOWED = new Set([
  "content-type",
  "cache-control",
  "retry-after",
  "request-id",
  "x-request-id",
  "openai-processing-ms",
  "openai-version",
  "x-github-request-id",
]);

const ALLOWED_PREFIXES = ["anthropic-ratelimit-", "x-ratelimit-", "x-codex-"];

function allowedResponseHeader(name: string): boolean {
  if (ALLOWED.has(name)) return true;
  for (const prefix of ALLOWED_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
}

/**
 * The headers to give the client. Content length and encoding are never
 * copied: Deno's fetch has already decoded the body, and rewritten answers
 * change length.
 */
export function clientResponseHeaders(
  upstream: Headers,
  extra: { account: string; requestId: string; contentType?: string },
): Headers {
  const out = new Headers();
  upstream.forEach((value, name) => {
    if (allowedResponseHeader(name)) out.set(name, value);
  });
  if (extra.contentType !== undefined) out.set("content-type", extra.contentType);
  out.set("x-kleis-account", extra.account);
  out.set("x-kleis-request-id", extra.requestId);
  return out;
}

/**
 * Outbound proxy URLs of accounts (docs/architecture.md#outbound-proxies):
 * which URLs are accepted, how they are shown, and the error a proxied call
 * fails with. The URL may hold a password, so it is stored sealed and only
 * ever shown through redactProxyUrl().
 *
 * Accepted schemes are the ones Deno.createHttpClient's `proxy.url` takes
 * and the tests drive against real proxies: http:// (plain requests are
 * forwarded, https:// ones tunnelled with CONNECT), socks5:// (names
 * resolved here) and socks5h:// (names resolved by the proxy). Deno 2.9.6
 * also takes https:// (TLS to the proxy), but in a trial against tinyproxy
 * behind TLS it sent no proxy credentials (407), so it is refused here
 * rather than offered untested.
 */

export const PROXY_SCHEMES: readonly string[] = ["http:", "socks5:", "socks5h:"];
export const MAX_PROXY_URL_LENGTH = 2048;

/** Why `text` is not an acceptable proxy URL, or undefined when it is. Never echoes the URL. */
export function proxyUrlProblem(text: string): string | undefined {
  if (text.length > MAX_PROXY_URL_LENGTH) return `longer than ${MAX_PROXY_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "not a URL (scheme://[user:password@]host:port)";
  }
  if (!PROXY_SCHEMES.includes(url.protocol)) {
    return `the scheme must be one of ${PROXY_SCHEMES.map((s) => `${s}//`).join(", ")}`;
  }
  if (url.hostname === "") return "the host is missing";
  if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "" || url.hash !== "") {
    return "a proxy URL has no path, query or fragment";
  }
  return undefined;
}

/**
 * The URL as admins, logs and the audit see it: the password replaced by
 * `***` (`http://user:***@host:port`). A user name without a password is
 * hidden too: some proxy services take their token as the user name.
 */
export function redactProxyUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "(invalid proxy URL)";
  }
  const user = url.username === "" ? "" : url.password === "" ? "***@" : `${url.username}:***@`;
  return `${url.protocol}//${user}${url.host}`;
}

/**
 * `text` with the user info of any URL in it redacted as redactProxyUrl()
 * does (error texts that may quote a URL): `user:***@`, and a lone user name
 * (a token) as `***@`.
 */
export function redactUserinfo(text: string): string {
  return text.replace(
    /\/\/([^:/@\s]*)(:[^@\s]*)?@/g,
    (_, user: string, password?: string) => password === undefined ? "//***@" : `//${user}:***@`,
  );
}

/** What Deno.createHttpClient takes: the credentials apart, percent-decoded. */
export function httpClientProxy(text: string): Deno.Proxy {
  const url = new URL(text);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const proxy: Deno.Proxy = { url: `${url.protocol}//${url.host}` };
  if (username !== "" || password !== "") proxy.basicAuth = { username, password };
  return proxy;
}

/**
 * A call through an account's outbound proxy failed before the backend
 * answered: the proxy is down, refused the connection or the credentials
 * (407), or could not reach the backend. Transient for the account: the
 * proxy engine moves on to the next account, the refresh path retries.
 */
export class OutboundProxyError extends Error {
  constructor(
    readonly accountId: string,
    /** The redacted proxy URL. */
    readonly proxy: string,
    readonly detail: string,
  ) {
    super(`The outbound proxy ${proxy} of account ${accountId} failed: ${detail}.`);
    this.name = "OutboundProxyError";
  }
}

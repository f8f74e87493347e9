/**
 * The client's address, for lockouts and logs: the connection's remote
 * address, or the first X-Forwarded-For hop only when KLEIS_TRUST_PROXY is
 * on (otherwise any client could claim any address and dodge lockouts).
 */
import type { Context } from "hono";

export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname ?? "unknown";
}

/** Public base URL: KLEIS_PUBLIC_URL, else the request's origin (forwarded headers if trusted). */
export function publicBaseUrl(c: Context, publicUrl: string | undefined, trustProxy: boolean) {
  if (publicUrl) return publicUrl;
  const url = new URL(c.req.url);
  if (trustProxy) {
    const proto = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim();
    const host = c.req.header("x-forwarded-host")?.split(",")[0]?.trim();
    if (proto === "http" || proto === "https") url.protocol = `${proto}:`;
    if (host && /^[A-Za-z0-9.\-:[\]]+$/.test(host)) url.host = host;
  }
  return url.origin;
}

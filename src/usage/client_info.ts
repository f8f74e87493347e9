/**
 * Who sent a request, as usage records keep it: the client address and the
 * User-Agent, normalised so that groupings stay useful and bucket keys stay
 * small (docs/api.md#usage-and-audit).
 *
 * - Address: the one src/client_address.ts judged (X-Forwarded-For only with
 *   KLEIS_TRUST_PROXY), without a port, an IPv4-mapped IPv6 address as IPv4,
 *   IPv6 in lower case, at most 64 characters; "" when unknown.
 * - User agent: the whole header (versions included: "which CLI version sent
 *   this" is the usual question), control characters dropped, runs of white
 *   space collapsed, at most MAX_USER_AGENT_LENGTH characters; "" when absent.
 */

export const MAX_USER_AGENT_LENGTH = 200;
const MAX_CLIENT_LENGTH = 64;

export function normalizeClient(raw: string | null | undefined): string {
  let s = (raw ?? "").trim();
  if (s === "" || s.toLowerCase() === "unknown") return "";
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  if (s.includes(":")) s = s.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/.exec(s);
  if (mapped) s = mapped[1]!;
  return s.slice(0, MAX_CLIENT_LENGTH);
}

export function normalizeUserAgent(raw: string | null | undefined): string {
  // deno-lint-ignore no-control-regex
  const s = (raw ?? "").replace(/[\u0000-\u001f\u007f]/g, " ").replace(/\s+/g, " ").trim();
  return s.slice(0, MAX_USER_AGENT_LENGTH);
}

/**
 * Where a Copilot account's GitHub lives: github.com (the configured
 * upstream origins) or a GitHub Enterprise domain, normalised to a bare
 * hostname. A loopback "domain" (host:port) is a test or staging fake: it
 * is reached over http, and its API and Copilot calls use the configured
 * upstream origins, since a fake cannot serve `api.<domain>`.
 */
import type { Deps } from "../../deps.ts";
import { badRequest } from "../../errors.ts";

const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:\d+$/, "");
  return name === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/**
 * "https://ghe.example.com/", "GHE.example.com" → "ghe.example.com";
 * github.com (or nothing) → undefined. `http://` only for loopback hosts.
 */
export function normaliseEnterpriseDomain(input: string | undefined): string | undefined {
  const text = input?.trim();
  if (!text) return undefined;
  const scheme = /^([a-z]+):\/\//i.exec(text)?.[1]?.toLowerCase();
  const host = text.replace(/^[a-z]+:\/\//i, "").replace(/[/?#].*$/, "").toLowerCase();
  if (!HOST.test(host)) {
    throw badRequest("invalid_enterprise_domain", "enterpriseDomain is not a valid hostname.");
  }
  if (scheme && scheme !== "https" && !(scheme === "http" && isLoopbackHost(host))) {
    throw badRequest("invalid_enterprise_domain", "enterpriseDomain must use https.");
  }
  if (host === "github.com" || host === "www.github.com") return undefined;
  return host;
}

export function githubOrigin(deps: Pick<Deps, "config">, domain: string | undefined): string {
  if (!domain) return deps.config.upstream.github;
  return isLoopbackHost(domain) ? `http://${domain}` : `https://${domain}`;
}

export function githubApiOrigin(deps: Pick<Deps, "config">, domain: string | undefined): string {
  if (!domain || isLoopbackHost(domain)) return deps.config.upstream.githubApi;
  return `https://api.${domain}`;
}

export function copilotApiBase(deps: Pick<Deps, "config">, domain: string | undefined): string {
  if (!domain || isLoopbackHost(domain)) return deps.config.upstream.copilot;
  return `https://copilot-api.${domain}`;
}

export function enterpriseDomainOf(meta: Record<string, unknown>): string | undefined {
  const value = meta["enterpriseDomain"];
  return typeof value === "string" && value ? value : undefined;
}

/**
 * Outbound proxies per account (docs/architecture.md#outbound-proxies).
 *
 * Everything an account sends (token refresh and exchange, quota and model
 * list calls, validation, and the proxied API calls) goes through
 * accountFetch(), which is deps.fetch for an account without a proxy and,
 * for one with a proxy, deps.fetch with a Deno.HttpClient whose `proxy` is
 * the account's URL. Logins and imports run before the account exists and
 * go direct.
 *
 * One client per account and proxy URL lives in the app's runtime: created
 * on first use (the URL unsealed then, once), replaced when the record
 * carries another sealed URL (an admin's change, seen by other instances
 * through the account cache within its TTL), closed when the setting is
 * changed or cleared here, when the account is removed here, and when an
 * instance's account list no longer holds the account (retainEgress()).
 */
import type { Deps } from "../deps.ts";
import { seal, unseal } from "../crypto.ts";
import {
  httpClientProxy,
  OutboundProxyError,
  redactProxyUrl,
  redactUserinfo,
} from "../outbound_proxy.ts";
import { runtimeSlot } from "../runtime.ts";
import type { AccountProxy, AccountRecord } from "../model/accounts.ts";
import type { ProviderId } from "../model/providers.ts";

interface Entry {
  provider: ProviderId;
  sealed: string;
  client: Promise<Deno.HttpClient>;
}

const POOL = runtimeSlot("accounts.egress", () => new Map<string, Entry>());

export function proxyContext(accountId: string): string {
  return `account_proxy:${accountId}`;
}

/** Seals an already checked proxy URL for the account's record, beside its redacted form. */
export async function sealAccountProxy(
  deps: Pick<Deps, "sealingKey" | "random">,
  accountId: string,
  url: string,
): Promise<AccountProxy> {
  return {
    sealed: await seal(deps.sealingKey, url, proxyContext(accountId), deps.random),
    display: redactProxyUrl(url),
  };
}

function close(entry: Entry): void {
  entry.client.then((client) => client.close(), () => {});
}

function clientFor(deps: Pick<Deps, "sealingKey" | "runtime">, account: AccountRecord) {
  const proxy = account.proxy!;
  const pool = deps.runtime.get(POOL);
  const entry = pool.get(account.id);
  if (entry && entry.sealed === proxy.sealed) return entry.client;
  if (entry) close(entry);
  const client = unseal<string>(deps.sealingKey, proxy.sealed, proxyContext(account.id))
    .then((url) => Deno.createHttpClient({ proxy: httpClientProxy(url) }));
  const next: Entry = { provider: account.provider, sealed: proxy.sealed, client };
  pool.set(account.id, next);
  // A URL that does not open (another encryption key) is tried again next time.
  client.catch(() => pool.get(account.id) === next && pool.delete(account.id));
  return client;
}

/** Closes the account's client (its proxy changed or it was removed on this instance). */
export function dropEgress(deps: Pick<Deps, "runtime">, accountId: string): void {
  const pool = deps.runtime.get(POOL);
  const entry = pool.get(accountId);
  if (!entry) return;
  pool.delete(accountId);
  close(entry);
}

/** Closes the clients of the provider's accounts that are gone from its list. */
export function retainEgress(
  deps: Pick<Deps, "runtime">,
  provider: ProviderId,
  accounts: readonly AccountRecord[],
): void {
  const pool = deps.runtime.get(POOL);
  if (pool.size === 0) return;
  for (const [id, entry] of pool) {
    if (entry.provider !== provider) continue;
    // A changed URL is replaced on the account's next call (clientFor); a
    // list loaded before a change here must not close the new client.
    if (!accounts.some((a) => a.id === id && a.proxy)) dropEgress(deps, id);
  }
}

/** Closes every client of this app (tests; an exiting process closes them anyway). */
export async function closeAllEgress(deps: Pick<Deps, "runtime">): Promise<void> {
  const pool = deps.runtime.get(POOL);
  const entries = [...pool.values()];
  pool.clear();
  for (const entry of entries) close(entry);
  await Promise.allSettled(entries.map((e) => e.client));
}

/** How many clients this app holds (tests). */
export function egressClientCount(deps: Pick<Deps, "runtime">): number {
  return deps.runtime.get(POOL).size;
}

/**
 * The fetch for everything the account sends. Through a proxy, a failure
 * before the backend answered (the proxy down, refusing the connection or
 * the credentials, a CONNECT it could not open) becomes an
 * OutboundProxyError naming the redacted URL; an abort by the caller stays
 * an abort. The backends are https://, so the proxy's refusals fail the
 * CONNECT and reach us as errors. Only a plain-http:// backend (a test, an
 * odd enterprise setup) gets the proxy's own answers as responses: 407 is
 * the proxy's by definition and counts as a proxy failure; any other status
 * cannot be told from the backend's (tinyproxy answers bad credentials with
 * a 401) and is handled as the backend's.
 */
export function accountFetch(
  deps: Pick<Deps, "fetch" | "log" | "sealingKey" | "runtime">,
  account: AccountRecord,
): typeof fetch {
  const proxy = account.proxy;
  if (!proxy) return deps.fetch;
  return async (input, init) => {
    let response: Response;
    try {
      const client = await clientFor(deps, account);
      response = await deps.fetch(input, { ...init, client });
    } catch (error) {
      if (init?.signal?.aborted) throw error;
      // Deno's own text is in the cause ("client error (Connect): ..."): logged, redacted.
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      deps.log.warn("Outbound proxy failed.", {
        accountId: account.id,
        proxy: proxy.display,
        error: redactUserinfo(cause instanceof Error ? cause.message : String(cause)),
      });
      throw new OutboundProxyError(
        account.id,
        proxy.display,
        "it could not be reached or refused the connection",
      );
    }
    if (response.status !== 407) return response;
    await response.body?.cancel().catch(() => {});
    deps.log.warn("Outbound proxy refused its credentials.", {
      accountId: account.id,
      proxy: proxy.display,
    });
    throw new OutboundProxyError(account.id, proxy.display, "it refused the credentials (407)");
  };
}

/**
 * The engine's fetch for the account: an OutboundProxyError becomes a 502
 * answer, which the engine treats like any transient backend failure (one
 * more try on the account, then the next account, no cooldown) and, when no
 * account is left, hands to the client in the route's error shape.
 */
export function accountFetchForProxy(
  deps: Pick<Deps, "fetch" | "log" | "sealingKey" | "runtime">,
  account: AccountRecord,
): typeof fetch {
  if (!account.proxy) return deps.fetch;
  const send = accountFetch(deps, account);
  return async (input, init) => {
    try {
      return await send(input, init);
    } catch (error) {
      if (!(error instanceof OutboundProxyError)) throw error;
      return Response.json({
        error: {
          type: "outbound_proxy_failed",
          code: "outbound_proxy_failed",
          message: "The outbound proxy of the account Kleis chose could not be used.",
        },
      }, { status: 502 });
    }
  };
}

/** `deps` whose fetch is the account's (for adapter calls made on the account's behalf). */
export function withAccountEgress<D extends Pick<Deps, "fetch" | "log" | "sealingKey" | "runtime">>(
  deps: D,
  account: AccountRecord,
): D {
  return account.proxy ? { ...deps, fetch: accountFetch(deps, account) } : deps;
}

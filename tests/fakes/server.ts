/** Loopback HTTP server shared by every fake: request log, start and close. */

export interface RecordedRequest {
  method: string;
  path: string;
  /** The query string with its leading `?`, or "". */
  search: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  bodyText: string;
  json?: unknown;
  /** The address the request came from (a forward proxy's own address, when it went through one). */
  remoteAddress: string;
  /**
   * How the fake's answer body ended, where the fake watches it (the
   * backends behind the proxy): read to its end by the client, or cancelled
   * (the client stopped reading), or broken off by the fake itself. Unset
   * while it is still being read.
   */
  bodyEnd?: "completed" | "cancelled" | "errored";
}

/**
 * The request's abort signal, fetched lazily: merely reading `request.signal` makes
 * Deno print a warning about its legacy abort behaviour.
 */
export type LazySignal = () => AbortSignal;

export type Handler = (req: RecordedRequest, signal: LazySignal) => Promise<Response> | Response;

export class FakeServer {
  /** Origin, e.g. `http://127.0.0.1:40123`. */
  url = "";
  /** `host:port`, usable as a GitHub Enterprise domain. */
  host = "";
  requests: RecordedRequest[] = [];
  #server: Deno.HttpServer | undefined;
  /** Called on close: releases holds, ends open streams, so shutdown never hangs. */
  protected readonly closers = new Set<() => void>();

  protected async listen(handler: Handler): Promise<void> {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request, info) => {
        const url = new URL(request.url);
        const headers: Record<string, string> = {};
        request.headers.forEach((value, key) => {
          headers[key.toLowerCase()] = value;
        });
        const bodyText = request.body ? await request.text() : "";
        const recorded: RecordedRequest = {
          method: request.method,
          path: url.pathname,
          search: url.search,
          headers,
          bodyText,
          remoteAddress: (info.remoteAddr as Deno.NetAddr).hostname,
        };
        if (bodyText) {
          try {
            recorded.json = JSON.parse(bodyText);
          } catch {
            // not JSON: bodyText is all there is
          }
        }
        this.requests.push(recorded);
        try {
          return await handler(recorded, () => request.signal);
        } catch (error) {
          console.error("fake handler failed:", error);
          return Response.json({ error: { message: String(error) } }, { status: 500 });
        }
      },
    );
    this.#server = server;
    this.url = `http://127.0.0.1:${server.addr.port}`;
    this.host = `127.0.0.1:${server.addr.port}`;
    await Promise.resolve();
  }

  /** Requests whose path equals `path` (any method). */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  lastRequest(path?: string): RecordedRequest | undefined {
    const list = path ? this.requestsTo(path) : this.requests;
    return list[list.length - 1];
  }

  clearRequests(): void {
    this.requests = [];
  }

  async close(): Promise<void> {
    for (const close of [...this.closers]) close();
    this.closers.clear();
    await this.#server?.shutdown();
  }
}

/** Waits `ms`, or less when `signal` aborts or the server closes. Resolves true if aborted. */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  closers?: Set<() => void>,
): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(true);
    const done = (aborted: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      closers?.delete(onClose);
      resolve(aborted);
    };
    const onAbort = () => done(true);
    const onClose = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    signal?.addEventListener("abort", onAbort);
    closers?.add(onClose);
  });
}

export function bearer(req: RecordedRequest): string | undefined {
  const match = /^(?:bearer|token)\s+(.+)$/i.exec(req.headers["authorization"] ?? "");
  return match?.[1]?.trim();
}

export function jsonObject(req: RecordedRequest): Record<string, unknown> | undefined {
  const v = req.json;
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}

export function formBody(req: RecordedRequest): URLSearchParams {
  return new URLSearchParams(req.bodyText);
}

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: h });
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/**
 * Capturing one proxied request (docs/api.md#request-capture).
 *
 * Off, it costs one property check per request: captureFor() looks at the
 * key record the key middleware has already read. On, the proxy calls two
 * hooks: sent() where the engine has built the upstream request (the last
 * attempt is kept), and answer() on the Response as it leaves Kleis, which
 * copies the first maxBodyBytes of the body as they pass to the client. Only
 * when that body has ended (or the client left) is the capture redacted and
 * written, in the background: a failure is logged, never raised, and the
 * client's answer never waits for it.
 */
import type { Deps } from "../deps.ts";
import { timeOrderedId } from "../crypto.ts";
import { concatBytes } from "../sse_scan.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import type { UpstreamCredentials } from "../model/accounts.ts";
import type { UpstreamRequest } from "../providers/proxy_types.ts";
import { presentedApiKey } from "../auth/api_key_auth.ts";
import { normalizeClient, normalizeUserAgent } from "../usage/client_info.ts";
import { Redactor } from "./redact.ts";
import { type CapturedAnswer, saveCapture } from "./store.ts";

/** What the engine tells the capture about the request it sends. */
export interface CaptureHook {
  sent(
    request: { provider: string; model: string },
    accountId: string,
    upstream: UpstreamRequest,
    credentials: UpstreamCredentials,
  ): void;
}

export interface CaptureContext {
  requestId: string;
  key: ApiKeyRecord;
  headers: Headers;
  client?: string | undefined;
}

/**
 * A recorder when capture is on for the request's key, else undefined: the
 * one check a request pays while capture is off. `endpoint` is the route.
 */
export function captureFor(
  deps: Deps,
  context: CaptureContext,
  endpoint: string,
): CaptureRecorder | undefined {
  const capture = context.key.capture;
  if (capture === undefined || capture.until <= deps.now()) return undefined;
  return new CaptureRecorder(deps, context, endpoint);
}

/** Keeps the first `limit` bytes of a stream's chunks and counts them all. */
class ByteSample {
  readonly #chunks: Uint8Array[] = [];
  #kept = 0;
  total = 0;

  constructor(private readonly limit: number) {}

  add(chunk: Uint8Array): void {
    this.total += chunk.length;
    const room = this.limit - this.#kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk.slice() : chunk.slice(0, room);
    this.#chunks.push(part);
    this.#kept += part.length;
  }

  bytes(): Uint8Array {
    return concatBytes(this.#chunks, this.#kept);
  }
}

const encoder = new TextEncoder();
const decoder = () => new TextDecoder("utf-8", { fatal: false });

export class CaptureRecorder implements CaptureHook {
  readonly #deps: Deps;
  readonly #context: CaptureContext;
  readonly #endpoint: string;
  readonly #id: string;
  readonly #at: number;
  readonly #startedAt: number;
  #attempts = 0;
  #provider: string | null = null;
  #model: string | null = null;
  #accountId: string | null = null;
  #upstream: UpstreamRequest | undefined;
  #upstreamSecret: string | undefined;
  #written = false;

  constructor(deps: Deps, context: CaptureContext, endpoint: string) {
    this.#deps = deps;
    // Only what the capture needs: the call also holds the body reader.
    this.#context = {
      requestId: context.requestId,
      key: context.key,
      headers: context.headers,
      client: context.client,
    };
    this.#endpoint = endpoint;
    this.#at = deps.now();
    this.#startedAt = performance.now();
    this.#id = timeOrderedId(this.#at, deps.random);
  }

  sent(
    request: { provider: string; model: string },
    accountId: string,
    upstream: UpstreamRequest,
    credentials: UpstreamCredentials,
  ): void {
    this.#attempts++;
    this.#provider = request.provider;
    this.#model = request.model;
    this.#accountId = accountId;
    this.#upstream = upstream;
    this.#upstreamSecret = credentials.accessToken;
  }

  /** The answer to send instead of `res`: the same status, headers and bytes, observed. */
  answer(res: Response): Response {
    const sample = new ByteSample(this.#deps.config.capture.maxBodyBytes);
    const finish = (outcome: CapturedAnswer["outcome"]) => this.#finish(res, sample, outcome);
    if (!res.body) {
      finish("completed");
      return res;
    }
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          finish("error");
          controller.error(error);
          return;
        }
        if (chunk.done) {
          finish("completed");
          controller.close();
          return;
        }
        sample.add(chunk.value);
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        finish("client_closed");
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
    return new Response(body, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  }

  #finish(res: Response, sample: ByteSample, outcome: CapturedAnswer["outcome"]): void {
    if (this.#written) return;
    this.#written = true;
    const durationMs = Math.max(0, Math.round(performance.now() - this.#startedAt));
    // After the answer: the write never delays it, and its failure is only logged.
    queueMicrotask(() => {
      this.#write(res, sample, outcome, durationMs).catch((error) =>
        this.#deps.log.warn("A captured request could not be stored.", {
          requestId: this.#context.requestId,
          keyId: this.#context.key.id,
          error,
        })
      );
    });
  }

  async #write(
    res: Response,
    sample: ByteSample,
    outcome: CapturedAnswer["outcome"],
    durationMs: number,
  ): Promise<void> {
    const deps = this.#deps;
    const { maxBodyBytes, retentionMs } = deps.config.capture;
    const context = this.#context;
    const redactor = new Redactor([
      presentedApiKey(context.headers),
      this.#upstreamSecret,
      deps.config.adminToken,
    ]);
    const keep = (bytes: Uint8Array, total: number) => {
      const cut = total > bytes.length;
      const text = redactor.text(decoder().decode(bytes), cut);
      return { stored: encoder.encode(text), info: { bytes: total, truncated: cut } };
    };

    let upstream = null;
    let requestBytes: Uint8Array | null = null;
    if (this.#upstream) {
      const raw = encoder.encode(this.#upstream.body);
      const { stored, info } = keep(raw.subarray(0, maxBodyBytes), raw.length);
      requestBytes = stored;
      upstream = {
        method: "POST",
        url: redactor.url(this.#upstream.url),
        headers: redactor.headers(this.#upstream.headers),
        body: info,
      };
    }
    const answer = keep(sample.bytes(), sample.total);
    await saveCapture(deps, {
      id: this.#id,
      keyId: context.key.id,
      requestId: context.requestId,
      at: this.#at,
      durationMs,
      expiresAt: this.#at + retentionMs,
      endpoint: this.#endpoint,
      provider: this.#provider,
      model: this.#model,
      accountId: this.#accountId,
      client: normalizeClient(context.client),
      userAgent: redactor.text(normalizeUserAgent(context.headers.get("user-agent"))),
      attempts: this.#attempts,
      upstream,
      answer: {
        status: res.status,
        headers: redactor.headers(res.headers),
        body: answer.info,
        outcome,
      },
    }, { request: requestBytes, answer: answer.stored });
  }
}

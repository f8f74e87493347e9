/**
 * A real webhook receiver on 127.0.0.1 for the alert tests. It checks each
 * delivery the way the README tells users to, with WebCrypto and nothing
 * from Kleis: the X-Kleis-Signature header's `t` and `v1`, an HMAC-SHA256
 * keyed with the secret over `<t>.<body>`, compared in constant time, and
 * the timestamp within 5 minutes of its own clock.
 */

export interface Delivery {
  headers: Headers;
  text: string;
  body: {
    id: string;
    type: string;
    time: string;
    summary: string;
    subject: { kind: string; id: string; label?: string; provider?: string };
    details: Record<string, unknown>;
  };
  /** undefined when no signature header came; otherwise whether it verified. */
  signatureValid: boolean | undefined;
}

export interface ReceiverOptions {
  /** The signing secret the receiver checks against; none: signatures are only recorded. */
  secret?: string;
  /** The receiver's clock (ms) for the replay window; the test's injected clock. */
  now?: () => number;
  /** The status to answer delivery number n (1-based); 204 by default. */
  answer?: (n: number) => number | Response;
}

export interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Deliveries of one alert type. */
  of(type: string): Delivery[];
  /** Resolves once `count` deliveries match, or throws after `timeoutMs`. */
  waitFor(match: (d: Delivery) => boolean, count?: number, timeoutMs?: number): Promise<Delivery[]>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const encoder = new TextEncoder();
const TOLERANCE_S = 300;

/** Verifies `t=<unix>,v1=<hex>` over the raw body, independently of Kleis's code. */
export async function verifySignature(
  secret: string,
  header: string,
  rawBody: string,
  nowMs: number,
): Promise<boolean> {
  const parts = new Map(
    header.split(",").map((p) => {
      const i = p.indexOf("=");
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const;
    }),
  );
  const t = parts.get("t");
  const v1 = parts.get("v1");
  if (!t || !/^\d+$/.test(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  if (Math.abs(nowMs / 1000 - Number(t)) > TOLERANCE_S) return false;
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const mac = new Uint8Array(v1.match(/../g)!.map((byte) => parseInt(byte, 16)));
  // crypto.subtle.verify compares in constant time.
  return await crypto.subtle.verify("HMAC", key, mac, encoder.encode(`${t}.${rawBody}`));
}

export function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  let count = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const text = await req.text();
      const n = ++count;
      const header = req.headers.get("x-kleis-signature");
      const signatureValid = header === null
        ? undefined
        : options.secret === undefined
        ? false
        : await verifySignature(options.secret, header, text, (options.now ?? Date.now)());
      deliveries.push({ headers: req.headers, text, body: JSON.parse(text), signatureValid });
      const answer = options.answer?.(n) ?? 204;
      return answer instanceof Response ? answer : new Response(null, { status: answer });
    },
  );
  const close = async () => {
    await server.shutdown();
  };
  return Promise.resolve({
    url: `http://127.0.0.1:${server.addr.port}/hooks/kleis`,
    deliveries,
    of: (type) => deliveries.filter((d) => d.body.type === type),
    async waitFor(match, wanted = 1, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = deliveries.filter(match);
        if (found.length >= wanted) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(
        `Waited ${timeoutMs} ms for ${wanted} matching deliveries; got: ${
          JSON.stringify(deliveries.map((d) => d.body.type))
        }`,
      );
    },
    close,
    [Symbol.asyncDispose]: close,
  });
}

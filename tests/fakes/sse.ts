/** SSE framing for the fakes, in the awkward chunkings real backends produce. */

export interface SseEvent {
  /** Written as an `event:` line when present. */
  event?: string;
  /** The `data:` payload: a JSON text or a marker such as `[DONE]`. */
  data: string;
}

/**
 * - normal: one event per chunk, `\n` line endings
 * - byte: one byte per chunk (multi-byte characters are split too)
 * - split: events cut at random points (seeded), across lines and events
 * - crlf: one event per chunk, `\r\n` line endings
 * - mixed: each event randomly `\n` or `\r\n` framed, one per chunk
 * - coalesced: many events per chunk
 */
export type Chunking = "normal" | "byte" | "split" | "crlf" | "mixed" | "coalesced";

export const CHUNKINGS: readonly Chunking[] = [
  "normal",
  "byte",
  "split",
  "crlf",
  "mixed",
  "coalesced",
];

/** mulberry32: a small seeded PRNG so a failing chunking can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sseEvent(type: string | undefined, data: unknown): SseEvent {
  const text = typeof data === "string" ? data : JSON.stringify(data);
  return type === undefined ? { data: text } : { event: type, data: text };
}

export function frameEvent(e: SseEvent, eol = "\n"): string {
  let out = e.event === undefined ? "" : `event: ${e.event}${eol}`;
  for (const line of e.data.split("\n")) out += `data: ${line}${eol}`;
  return out + eol;
}

const encoder = new TextEncoder();

/** Cuts the framed events into the byte chunks the stream will send. */
export function chunkEvents(events: SseEvent[], chunking: Chunking, seed = 1): Uint8Array[] {
  const rand = prng(seed);
  switch (chunking) {
    case "normal":
      return events.map((e) => encoder.encode(frameEvent(e)));
    case "crlf":
      return events.map((e) => encoder.encode(frameEvent(e, "\r\n")));
    case "mixed":
      return events.map((e) => encoder.encode(frameEvent(e, rand() < 0.5 ? "\n" : "\r\n")));
    case "coalesced": {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < events.length; i += 6) {
        chunks.push(encoder.encode(events.slice(i, i + 6).map((e) => frameEvent(e)).join("")));
      }
      return chunks;
    }
    case "byte": {
      const all = encoder.encode(events.map((e) => frameEvent(e)).join(""));
      return Array.from(all, (b) => Uint8Array.of(b));
    }
    case "split": {
      const all = encoder.encode(events.map((e) => frameEvent(e)).join(""));
      const chunks: Uint8Array[] = [];
      let at = 0;
      while (at < all.length) {
        const size = 1 + Math.floor(rand() * 48);
        chunks.push(all.slice(at, at + size));
        at += size;
      }
      return chunks;
    }
  }
}

/** Yields to the event loop with a macrotask (unclamped, unlike nested setTimeout). */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(0);
    channel.port2.close();
  });
}

export interface StreamOptions {
  /** After half of the chunks, go silent this long (or until cancelled / closed). */
  stallMidStreamMs?: number;
  /** After half of the chunks, abort the connection. */
  resetMidStream?: boolean;
  /** After the last chunk, wait this long (or until cancelled / closed) before ending. */
  lingerMs?: number;
  /** Called once when the client goes away before the stream finished. */
  onCancel?: () => void;
  /** Set of closers of the owning server: an open stream is ended when the server closes. */
  closers?: Set<() => void>;
}

/** A body that sends each chunk separately, so chunk boundaries survive to the client. */
export function chunkedBody(
  chunks: Uint8Array[],
  opts: StreamOptions = {},
): ReadableStream<Uint8Array> {
  let index = 0;
  let finished = false;
  let stallMs = opts.stallMidStreamMs;
  let wake: (() => void) | undefined;
  const half = Math.max(1, Math.floor(chunks.length / 2));
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
  const onClose = () => {
    finished = true;
    wake?.();
    try {
      controllerRef?.close();
    } catch {
      // already closed or errored
    }
  };
  const finish = () => {
    finished = true;
    opts.closers?.delete(onClose);
  };
  opts.closers?.add(onClose);
  /** Silence for `ms`, cut short by a cancel or the server closing. */
  const silence = async (ms: number) => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = undefined;
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controllerRef = controller;
    },
    async pull(controller) {
      if (finished) return;
      await macrotask();
      if (finished) return;
      if (index === half && stallMs !== undefined) {
        await silence(stallMs);
        stallMs = undefined;
        if (finished) return;
      }
      if (index === half && opts.resetMidStream) {
        finish();
        controller.error(new Error("fake backend reset the stream mid-way (intended)"));
        return;
      }
      const chunk = chunks[index++];
      if (chunk === undefined && opts.lingerMs) {
        await silence(opts.lingerMs);
        if (finished) return;
      }
      if (chunk === undefined) {
        finish();
        controller.close();
        return;
      }
      controller.enqueue(chunk);
    },
    cancel() {
      if (!finished) opts.onCancel?.();
      finish();
      wake?.();
    },
  });
}

/** Parses SSE text (any of `\n`, `\r\n`, `\r` line endings) into events. */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  let event: string | undefined;
  let data: string[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === "") {
      if (data.length > 0 || event !== undefined) {
        const e: SseEvent = { data: data.join("\n") };
        if (event !== undefined) e.event = event;
        events.push(e);
      }
      event = undefined;
      data = [];
      continue;
    }
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return events;
}

/** Reads a whole SSE response body and parses it (for tests). */
export async function readSse(res: Response): Promise<SseEvent[]> {
  return parseSse(await res.text());
}

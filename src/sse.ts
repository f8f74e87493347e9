/**
 * Server-sent events: incremental framing of a byte stream into events, and
 * encoding of events. Lives below the providers (docs/architecture.md#layers) so that adapters
 * and the proxy engine share one implementation.
 *
 * The framer keeps the exact text of every event (`raw`), so a consumer that
 * rewrites only some events re-emits the others byte for byte. Line endings
 * may be `\n`, `\r\n` or `\r`, mixed freely, and an event may arrive split
 * across any number of chunks (even inside a multi-byte character). Event
 * ends are found at the byte level by sse_scan.ts, which the proxy's stream
 * layer uses without decoding at all.
 */
import { SseScanner } from "./sse_scan.ts";

export interface SseEvent {
  /** The exact text of the event, including the blank line that ended it. */
  raw: string;
  /** The `event:` field, when present. */
  event?: string;
  /** `data:` lines joined with "\n"; null when the event had no data line (comments, blanks). */
  data: string | null;
}

const LF = 10;
const CR = 13;

const encoder = new TextEncoder();
/** Decodes whole events only (their bytes never end inside a character), so it keeps no state. */
const decoder = new TextDecoder();

/**
 * Splits a stream of chunks into whole events; holds at most one partial
 * event. The event ends are found in the bytes (sse_scan.ts); each whole
 * event is then decoded.
 */
export class SseFramer {
  readonly #scanner = new SseScanner();

  /** True when part of an event has been received but not yet its end. */
  get pending(): boolean {
    return this.#scanner.pending;
  }

  push(chunk: Uint8Array): SseEvent[] {
    return this.pushRaw(chunk).map(parseEvent);
  }

  pushText(text: string): SseEvent[] {
    return this.push(encoder.encode(text));
  }

  /**
   * Like push(), but returns each whole event's exact text without parsing it
   * (a consumer that only passes events on parses the few it needs).
   */
  pushRaw(chunk: Uint8Array): string[] {
    const scanner = this.#scanner;
    const count = scanner.push(chunk);
    const events: string[] = [];
    for (let i = 0; i < count; i++) events.push(decoder.decode(scanner.event(chunk, i)));
    return events;
  }

  /** Ends the stream: a trailing event without its blank line is returned as well. */
  flush(): SseEvent[] {
    return this.flushRaw().map(parseEvent);
  }

  /** flush(), returning the trailing event's exact text. */
  flushRaw(): string[] {
    const rest = this.#scanner.flush();
    return rest === undefined ? [] : [decoder.decode(rest)];
  }
}

/** Parses the text of one event (fields per the SSE specification; ids and retry ignored). */
export function parseEvent(raw: string): SseEvent {
  let event: string | undefined;
  let data: string | null = null;
  let lineStart = 0;
  const n = raw.length;
  while (lineStart < n) {
    let lineEnd = lineStart;
    while (lineEnd < n) {
      const c = raw.charCodeAt(lineEnd);
      if (c === LF || c === CR) break;
      lineEnd++;
    }
    if (lineEnd > lineStart && raw.charCodeAt(lineStart) !== 58 /* ":" comment */) {
      const line = raw.slice(lineStart, lineEnd);
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === "data") data = data === null ? value : `${data}\n${value}`;
      else if (field === "event") event = value;
    }
    // Skip the terminator (CRLF counts once).
    if (raw.charCodeAt(lineEnd) === CR && raw.charCodeAt(lineEnd + 1) === LF) lineEnd++;
    lineStart = lineEnd + 1;
  }
  return event === undefined ? { raw, data } : { raw, event, data };
}

/** Encodes one event with `\n` line endings. */
export function encodeEvent(data: string, event?: string): string {
  let out = event === undefined ? "" : `event: ${event}\n`;
  if (data.indexOf("\n") < 0 && data.indexOf("\r") < 0) return `${out}data: ${data}\n\n`;
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}

/** An SSE comment line; clients ignore it, proxies and load balancers see traffic. */
export function encodeComment(text: string): string {
  return `: ${text}\n\n`;
}

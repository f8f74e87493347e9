/**
 * Server-sent events: incremental framing of a byte stream into events, and
 * encoding of events. Lives below the providers (docs/architecture.md#layers) so that adapters
 * and the proxy engine share one implementation.
 *
 * The framer keeps the exact text of every event (`raw`), so a consumer that
 * rewrites only some events re-emits the others byte for byte. Line endings
 * may be `\n`, `\r\n` or `\r`, mixed freely, and an event may arrive split
 * across any number of chunks (even inside a multi-byte character).
 */

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

/** Splits a stream of chunks into whole events; holds at most one partial event. */
export class SseFramer {
  #decoder = new TextDecoder();
  #buffer = "";
  /** Where scanning resumes in #buffer (everything before it is a partial event's start). */
  #scan = 0;
  /** True when the last scanned character ended a line. */
  #atLineStart = true;
  /** A CR was the last character scanned: a following LF belongs to it. */
  #pendingCr = false;

  /** True when part of an event has been received but not yet its end. */
  get pending(): boolean {
    return this.#buffer.length > 0;
  }

  push(chunk: Uint8Array): SseEvent[] {
    return this.pushText(this.#decoder.decode(chunk, { stream: true }));
  }

  pushText(text: string): SseEvent[] {
    return this.#split(text).map(parseEvent);
  }

  /**
   * Like push(), but returns each whole event's exact text without parsing it
   * (a consumer that only passes events on parses the few it needs).
   */
  pushRaw(chunk: Uint8Array): string[] {
    return this.#split(this.#decoder.decode(chunk, { stream: true }));
  }

  /**
   * Finds event ends by jumping from line terminator to line terminator
   * (indexOf) instead of looking at every character: streams are mostly
   * long data lines.
   */
  #split(text: string): string[] {
    if (text.length === 0) return [];
    const buf = this.#buffer + text;
    const events: string[] = [];
    const n = buf.length;
    let start = 0;
    let i = this.#scan;
    let atLineStart = this.#atLineStart;
    let pendingCr = this.#pendingCr;
    let nextCr = buf.indexOf("\r", i);
    while (i < n) {
      if (nextCr !== -1 && nextCr < i) nextCr = buf.indexOf("\r", i);
      const lf = buf.indexOf("\n", i);
      const j = lf < 0 ? nextCr : nextCr < 0 ? lf : Math.min(lf, nextCr);
      if (j < 0) {
        // The rest is the start of a line.
        atLineStart = false;
        pendingCr = false;
        break;
      }
      if (j > i) {
        atLineStart = false;
        pendingCr = false;
      }
      const c = buf.charCodeAt(j);
      if (c === LF && pendingCr) {
        // Second half of a CRLF: the line already ended at the CR.
        pendingCr = false;
        i = j + 1;
        continue;
      }
      pendingCr = c === CR;
      if (atLineStart) {
        // A blank line: the event ends after this terminator (and its LF, if CRLF).
        let end = j + 1;
        if (c === CR && end < n && buf.charCodeAt(end) === LF) {
          end++;
          pendingCr = false;
        }
        events.push(buf.slice(start, end));
        start = end;
        i = end;
        continue;
      }
      atLineStart = true;
      i = j + 1;
    }
    this.#buffer = start === 0 ? buf : buf.slice(start);
    this.#scan = this.#buffer.length;
    this.#atLineStart = atLineStart;
    this.#pendingCr = pendingCr;
    return events;
  }

  /** Ends the stream: a trailing event without its blank line is returned as well. */
  flush(): SseEvent[] {
    return this.flushRaw().map(parseEvent);
  }

  /** flush(), returning the trailing event's exact text. */
  flushRaw(): string[] {
    const rest = this.#buffer + this.#decoder.decode();
    this.#buffer = "";
    this.#scan = 0;
    this.#atLineStart = true;
    this.#pendingCr = false;
    return rest.length === 0 ? [] : [rest];
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

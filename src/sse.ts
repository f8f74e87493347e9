/**
 * Server-sent events: incremental framing of a byte stream into events, and
 * encoding of events. Lives below the providers (design.md) so that adapters
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
    if (text.length === 0) return [];
    this.#buffer += text;
    const events: SseEvent[] = [];
    const buf = this.#buffer;
    let start = 0;
    let i = this.#scan;
    const n = buf.length;
    while (i < n) {
      const c = buf.charCodeAt(i);
      if (c === LF && this.#pendingCr) {
        // Second half of a CRLF: the line already ended at the CR.
        this.#pendingCr = false;
        i++;
        continue;
      }
      this.#pendingCr = c === CR;
      if (c === LF || c === CR) {
        if (this.#atLineStart) {
          // A blank line: the event ends after this terminator (and its LF, if CRLF).
          let end = i + 1;
          if (c === CR && end < n && buf.charCodeAt(end) === LF) {
            end++;
            this.#pendingCr = false;
          }
          events.push(parseEvent(buf.slice(start, end)));
          start = end;
          i = end;
          this.#atLineStart = true;
          continue;
        }
        this.#atLineStart = true;
      } else {
        this.#atLineStart = false;
      }
      i++;
    }
    this.#buffer = start === 0 ? buf : buf.slice(start);
    this.#scan = this.#buffer.length;
    return events;
  }

  /** Ends the stream: a trailing event without its blank line is returned as well. */
  flush(): SseEvent[] {
    const rest = this.#buffer + this.#decoder.decode();
    this.#buffer = "";
    this.#scan = 0;
    this.#atLineStart = true;
    this.#pendingCr = false;
    if (rest.length === 0) return [];
    return [parseEvent(rest)];
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

/**
 * Server-sent events at the byte level: finds where events end in a stream
 * of chunks without decoding them, so a stream that is only passed on (and
 * read for the few events that carry token usage) costs a scan for line
 * terminators per chunk, not a decode, a string and a parse per event.
 * Lives below the providers (docs/architecture.md#layers) with sse.ts, which
 * frames decoded text.
 *
 * Line endings may be `\n`, `\r\n` or `\r`, mixed freely; an event may
 * arrive split across any number of chunks, at any byte (a CRLF or a
 * multi-byte character included); a blank line ends an event, as in
 * sse.ts (whose SseFramer yields the same events as text).
 */

const LF = 10;
const CR = 13;

/** UTF-8 bytes of `text`, for markers (indexOfBytes). */
export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * Index of `needle` in `hay[from, to)`, or -1. Jumps between occurrences of
 * the needle's rarest-looking byte (`Uint8Array.indexOf` is native); a
 * quote or a space would be tried at almost every JSON token.
 */
export function indexOfBytes(
  hay: Uint8Array,
  needle: Uint8Array,
  from = 0,
  to = hay.length,
): number {
  const m = needle.length;
  if (m === 0) return from <= to ? from : -1;
  const anchor = anchorOf(needle);
  const a = needle[anchor]!;
  let i = hay.indexOf(a, from + anchor);
  while (i !== -1 && i - anchor + m <= to) {
    const start = i - anchor;
    let k = 0;
    while (k < m && hay[start + k] === needle[k]) k++;
    if (k === m) return start;
    i = hay.indexOf(a, i + 1);
  }
  return -1;
}

/** Letters from rare to common in English text and JSON keys. */
const RARITY = "zqxjkvbpgwyfmculdhrsnioate";

function anchorOf(needle: Uint8Array): number {
  let best = 0;
  let bestRank = Infinity;
  for (let i = 0; i < needle.length; i++) {
    const c = needle[i]!;
    const letter = c >= 65 && c <= 90 ? c + 32 : c;
    const r = letter >= 97 && letter <= 122 ? RARITY.indexOf(String.fromCharCode(letter)) : 40;
    if (r < bestRank) {
      best = i;
      bestRank = r;
    }
  }
  return best;
}

const NONE: Uint8Array[] = [];

/** The parts as one Uint8Array of `total` bytes. */
export function concatBytes(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Finds event ends in a byte stream. After push(chunk), `count` events
 * ended in that chunk, the i-th at `ends[i]` (exclusive offsets into the
 * chunk); event(chunk, i) gives an event's bytes. Bytes of an unfinished
 * event are kept (copied: only the tail of a chunk that ends inside an
 * event, which backends that send whole events per chunk never have).
 */
export class SseScanner {
  /** End offsets of the events that ended in the last pushed chunk (first `count` valid). */
  readonly ends: number[] = [];
  count = 0;
  #atLineStart = true;
  /** The last byte scanned was a CR: a following LF belongs to it. */
  #pendingCr = false;
  /** Bytes of the unfinished event received in earlier chunks. */
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  /** The held bytes as they were before the last push (they start that push's first event). */
  #prefix: Uint8Array[] = [];
  #prefixBytes = 0;

  /** True when part of an event has been received but not yet its end. */
  get pending(): boolean {
    return this.#heldBytes > 0;
  }

  /** Bytes held for the unfinished event. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Scans one chunk; returns how many events ended in it (also `count`). */
  push(chunk: Uint8Array): number {
    const ends = this.ends;
    let count = 0;
    const n = chunk.length;
    let i = 0;
    let atLineStart = this.#atLineStart;
    let pendingCr = this.#pendingCr;
    let nextCr = n === 0 ? -1 : chunk.indexOf(CR);
    while (i < n) {
      if (nextCr !== -1 && nextCr < i) nextCr = chunk.indexOf(CR, i);
      const lf = chunk.indexOf(LF, i);
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
      const c = chunk[j];
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
        if (c === CR && end < n && chunk[end] === LF) {
          end++;
          pendingCr = false;
        }
        ends[count++] = end;
        i = end;
        continue;
      }
      atLineStart = true;
      i = j + 1;
    }
    this.#atLineStart = atLineStart;
    this.#pendingCr = pendingCr;
    this.count = count;
    const tailStart = count === 0 ? 0 : ends[count - 1]!;
    if (count > 0 && this.#heldBytes > 0) {
      // The bytes held so far began this chunk's first event.
      this.#prefix = this.#held;
      this.#prefixBytes = this.#heldBytes;
      this.#held = [];
      this.#heldBytes = 0;
    } else {
      this.#prefix = NONE;
      this.#prefixBytes = 0;
    }
    if (tailStart < n) {
      this.#held.push(chunk.slice(tailStart));
      this.#heldBytes += n - tailStart;
    }
    return count;
  }

  /** Start of event i of the last push within its chunk (0 for the first: it may begin earlier). */
  startOf(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1]!;
  }

  /** True when event i of the last push began in an earlier chunk. */
  spans(i: number): boolean {
    return i === 0 && this.#prefixBytes > 0;
  }

  /** The bytes of event i of the last push (a view into `chunk` unless it began earlier). */
  event(chunk: Uint8Array, i: number): Uint8Array {
    const end = this.ends[i]!;
    if (!this.spans(i)) return chunk.subarray(this.startOf(i), end);
    return concatBytes([...this.#prefix, chunk.subarray(0, end)], this.#prefixBytes + end);
  }

  /** Ends the stream: the bytes of a trailing event without its blank line, if any. */
  flush(): Uint8Array | undefined {
    const rest = this.#heldBytes === 0 ? undefined : concatBytes(this.#held, this.#heldBytes);
    this.#held = [];
    this.#heldBytes = 0;
    this.#prefix = [];
    this.#prefixBytes = 0;
    this.#atLineStart = true;
    this.#pendingCr = false;
    this.count = 0;
    return rest;
  }
}

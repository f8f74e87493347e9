import assert from "node:assert/strict";
import { bytesOf, indexOfBytes, SseScanner } from "../../src/sse_scan.ts";
import { parseEvent } from "../../src/sse.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Every event's exact bytes (as text) through the scanner, and whether it was pending after each chunk. */
function scanAll(chunks: Uint8Array[]) {
  const scanner = new SseScanner();
  const events: string[] = [];
  const pending: boolean[] = [];
  for (const chunk of chunks) {
    const n = scanner.push(chunk);
    assert.equal(n, scanner.count);
    for (let i = 0; i < n; i++) events.push(dec.decode(scanner.event(chunk, i)));
    pending.push(scanner.pending);
  }
  const rest = scanner.flush();
  if (rest) events.push(dec.decode(rest));
  return { events, pending };
}

/**
 * The reference, written the plain way: the whole text split into lines
 * (a line ends at CRLF, LF or CR); a blank line ends an event, and the
 * event's text runs up to and including it.
 */
function frameAll(text: string): string[] {
  const events: string[] = [];
  let start = 0;
  let lineStart = 0;
  const terminator = /\r\n|\r|\n/g;
  for (let m = terminator.exec(text); m; m = terminator.exec(text)) {
    const end = m.index + m[0].length;
    if (m.index === lineStart) {
      events.push(text.slice(start, end));
      start = end;
    }
    lineStart = end;
  }
  if (start < text.length) events.push(text.slice(start));
  return events;
}

/** What a client sees of events: their fields, without the ones that carry none. */
function fields(events: string[]) {
  return events.map(parseEvent).filter((e) => e.data !== null || e.event !== undefined)
    .map((e) => [e.event, e.data]);
}

function splitAt(bytes: Uint8Array, ...cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(bytes.slice(from, cut));
    from = cut;
  }
  return out;
}

const SAMPLES: Record<string, string> = {
  lf: 'event: a\ndata: {"x":1}\n\ndata: b\n\n',
  crlf: 'event: a\r\ndata: {"x":1}\r\n\r\ndata: b\r\n\r\n',
  cr: 'event: a\rdata: {"x":1}\r\rdata: b\r\r',
  mixed: "data: one\r\n\ndata: two\n\r\ndata: three\r\r\ndata: four\n\n",
  multiline: "data: line1\ndata: line2\r\ndata: line3\n\n",
  comments: ": keepalive\n\n: hello\ndata: after a comment\n\n",
  utf8: 'data: {"é":"ü😀"}\n\nevent: ☃\ndata: ☃☃\r\n\r\n',
  blankLines: "\n\n\r\ndata: x\n\n\n",
  trailing: "data: done\n\ndata: no blank line at the end",
  usage:
    'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":5}}}\n\n' +
    'data: {"choices":[],"usage":{"prompt_tokens":1}}\n\ndata: [DONE]\n\n',
};

Deno.test("SseScanner", async (t) => {
  await t.step("finds the same events, byte for byte, as the text framer", () => {
    for (const [name, text] of Object.entries(SAMPLES)) {
      const { events } = scanAll([enc.encode(text)]);
      assert.deepEqual(events, frameAll(text), name);
      assert.equal(events.join(""), text, name);
    }
  });

  await t.step("whatever the split: at every byte position, and one byte per chunk", () => {
    for (const [name, text] of Object.entries(SAMPLES)) {
      const bytes = enc.encode(text);
      const expected = fields(frameAll(text));
      const check = (chunks: Uint8Array[], what: string) => {
        const { events } = scanAll(chunks);
        assert.deepEqual(fields(events), expected, `${name} ${what}`);
        assert.equal(events.join(""), text, `${name} ${what}: every byte in exactly one event`);
        // Only a CRLF split between chunks moves its LF to the next event's start.
        if (!text.includes("\r")) assert.deepEqual(events, frameAll(text), `${name} ${what}`);
      };
      for (let cut = 0; cut <= bytes.length; cut++) {
        check(splitAt(bytes, cut), `cut at ${cut}`);
        for (let second = cut; second <= bytes.length; second += 3) {
          check(splitAt(bytes, cut, second), `cut at ${cut} and ${second}`);
        }
      }
      check(Array.from(bytes, (b) => Uint8Array.of(b)), "one byte per chunk");
    }
  });

  await t.step("a CR at a chunk's end and the LF that starts the next are one line end", () => {
    const scanner = new SseScanner();
    assert.equal(scanner.push(enc.encode("data: a\r")), 0);
    assert.equal(scanner.push(enc.encode("\n")), 0, "the LF completes the CRLF: no blank line");
    assert.equal(scanner.push(enc.encode("\r\n")), 1);
    assert.equal(dec.decode(scanner.event(enc.encode("\r\n"), 0)), "data: a\r\n\r\n");
  });

  await t.step("pending: true inside an event, false between events", () => {
    const { pending } = scanAll(splitAt(enc.encode("data: a\n\ndata: b\n\n"), 4, 8, 9, 13));
    // "data" | ": a\n" | "\n" | "data" | ": b\n\n"
    assert.deepEqual(pending, [true, true, false, true, false]);
  });

  await t.step("events inside one chunk are views into it, not copies", () => {
    const scanner = new SseScanner();
    const chunk = enc.encode("data: a\n\ndata: b\n\n");
    assert.equal(scanner.push(chunk), 2);
    const second = scanner.event(chunk, 1);
    assert.equal(second.buffer, chunk.buffer);
    assert.equal(second.byteOffset, 9);
    assert.equal(scanner.spans(1), false);
  });

  await t.step("a huge event split into many chunks comes out whole", () => {
    const data = "x".repeat(1024 * 1024);
    const text = `data: ${data}\n\ndata: small\n\n`;
    const bytes = enc.encode(text);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 1000) chunks.push(bytes.slice(i, i + 1000));
    const scanner = new SseScanner();
    const events: string[] = [];
    let maxHeld = 0;
    for (const chunk of chunks) {
      const n = scanner.push(chunk);
      maxHeld = Math.max(maxHeld, scanner.heldBytes);
      for (let i = 0; i < n; i++) events.push(dec.decode(scanner.event(chunk, i)));
    }
    assert.equal(scanner.flush(), undefined);
    assert.deepEqual(events, [`data: ${data}\n\n`, "data: small\n\n"]);
    assert.ok(maxHeld <= bytes.length, "held bytes never exceed the event");
  });
});

Deno.test("indexOfBytes agrees with String.indexOf, within bounds", () => {
  const hay = 'data: {"type":"x","usage":{"a":1},"text":"usage usage"}\n\n"usage"';
  const bytes = enc.encode(hay);
  for (const needle of ['"usage"', "usage", "content_block_start", "a", '"', "}\n\n", "zz"]) {
    const n = bytesOf(needle);
    for (let from = 0; from <= hay.length; from++) {
      const expected = hay.indexOf(needle, from);
      assert.equal(indexOfBytes(bytes, n, from), expected, `${needle} from ${from}`);
      // Bounded: found only when the whole match lies before `to`.
      const to = Math.min(hay.length, from + 20);
      const within = hay.slice(0, to).indexOf(needle, from);
      assert.equal(indexOfBytes(bytes, n, from, to), within, `${needle} in [${from}, ${to})`);
    }
  }
  assert.equal(indexOfBytes(bytes, new Uint8Array(0), 3), 3);
});

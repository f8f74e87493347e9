import assert from "node:assert/strict";
import { encodeComment, encodeEvent, parseEvent, SseFramer } from "../../src/sse.ts";

const enc = new TextEncoder();

function frameAll(chunks: Uint8Array[]) {
  const framer = new SseFramer();
  const events = chunks.flatMap((c) => framer.push(c));
  return [...events, ...framer.flush()];
}

const SAMPLE = 'event: a\ndata: {"x":1}\n\n' +
  "data: line1\r\ndata: line2\r\n\r\n" +
  ": comment\n\n" +
  'event: b\rdata: {"é":"ü😀"}\r\r' +
  "data: mixed\r\n\n" +
  "data: last\n\n";

Deno.test("SseFramer", async (t) => {
  await t.step("frames \\n\\n, \\r\\n\\r\\n, \\r\\r and mixed separators", () => {
    const events = frameAll([enc.encode(SAMPLE)]);
    const data = events.filter((e) => e.data !== null).map((e) => [e.event, e.data]);
    assert.deepEqual(data, [
      ["a", '{"x":1}'],
      [undefined, "line1\nline2"],
      ["b", '{"é":"ü😀"}'],
      [undefined, "mixed"],
      [undefined, "last"],
    ]);
  });

  await t.step(
    "gives the same events and exact bytes whatever the chunking (one byte per chunk included)",
    () => {
      const bytes = enc.encode(SAMPLE);
      const whole = frameAll([bytes]);
      for (const size of [1, 2, 3, 5, 7, 13]) {
        const chunks: Uint8Array[] = [];
        for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
        const events = frameAll(chunks);
        assert.deepEqual(
          events.filter((e) => e.data !== null).map((e) => e.data),
          whole.filter((e) => e.data !== null).map((e) => e.data),
          `chunk size ${size}`,
        );
        assert.equal(events.map((e) => e.raw).join(""), SAMPLE, `raw bytes at chunk size ${size}`);
      }
    },
  );

  await t.step("holds a partial event until its blank line arrives", () => {
    const framer = new SseFramer();
    assert.deepEqual(framer.pushText("data: hel"), []);
    assert.equal(framer.pending, true);
    assert.deepEqual(framer.pushText("lo\n"), []);
    const events = framer.pushText("\n");
    assert.equal(events.length, 1);
    assert.equal(events[0]!.data, "hello");
    assert.equal(framer.pending, false);
  });

  await t.step("flush() returns a trailing event that lacks its blank line", () => {
    const framer = new SseFramer();
    framer.pushText("data: tail");
    assert.equal(framer.flush()[0]!.data, "tail");
  });
});

Deno.test("encodeEvent() and parseEvent() round-trip multi-line data", () => {
  const text = encodeEvent("a\nb", "x");
  assert.equal(text, "event: x\ndata: a\ndata: b\n\n");
  const parsed = parseEvent(text);
  assert.equal(parsed.event, "x");
  assert.equal(parsed.data, "a\nb");
  assert.equal(encodeComment("keepalive"), ": keepalive\n\n");
  assert.equal(parseEvent(": keepalive\n\n").data, null);
});

import assert from "node:assert/strict";
import {
  DEFAULT_STREAM_TIMING,
  proxyStream,
  type ProxyStreamOptions,
  STREAM_READ_SIZE,
  type StreamOutcome,
} from "../../src/proxy/streaming.ts";
import { UsageMeter } from "../../src/proxy/usage_extract.ts";
import type { AnswerRewriter, AnswerShape } from "../../src/providers/proxy_types.ts";
import { buildToolNameMap, toolNameRewriter } from "../../src/providers/claude/tool_names.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A plain (not byte) stream of exactly these chunks. */
function chunksStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++]!);
      else c.close();
    },
  });
}

/** A byte stream (as fetch bodies are) giving these chunks, one per read. */
function byteStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    type: "bytes",
    pull(c) {
      const next = chunks[i++];
      if (next === undefined) {
        c.close();
        c.byobRequest?.respond(0);
        return;
      }
      const view = c.byobRequest!.view as Uint8Array;
      view.set(next);
      c.byobRequest!.respond(next.length);
    },
  });
}

async function run(
  upstream: ReadableStream<Uint8Array>,
  shape: AnswerShape,
  extra: Partial<ProxyStreamOptions> = {},
) {
  const meter = new UsageMeter(shape);
  const outcomes: StreamOutcome[] = [];
  const stream = proxyStream({
    upstream,
    abort: new AbortController(),
    shape,
    meter,
    timing: DEFAULT_STREAM_TIMING,
    onFirstByte: () => {},
    onEnd: (o) => outcomes.push(o),
    ...extra,
  });
  const out: Uint8Array[] = [];
  for await (const chunk of stream) out.push(chunk);
  return { out, usage: meter.usage, outcomes, text: joined(out) };
}

/** The chunks' bytes decoded as one (a character may be split between chunks). */
function joined(chunks: Uint8Array[]): string {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return dec.decode(all);
}

function splits(bytes: Uint8Array): Uint8Array[][] {
  const all: Uint8Array[][] = [];
  for (let cut = 1; cut < bytes.length; cut++) {
    all.push([bytes.slice(0, cut), bytes.slice(cut)]);
  }
  return all;
}

const sse = (events: [string | undefined, unknown][], eol = "\n") =>
  events.map(([event, data]) =>
    `${event ? `event: ${event}${eol}` : ""}data: ${
      typeof data === "string" ? data : JSON.stringify(data)
    }${eol}${eol}`
  ).join("");

const PROVIDER_STREAMS: { name: string; shape: AnswerShape; text: string; usage: unknown }[] = [
  {
    name: "Codex (response.completed)",
    shape: "responses",
    text: sse([
      ["response.created", { type: "response.created", response: { id: "r", usage: null } }],
      ["response.output_text.delta", { type: "response.output_text.delta", delta: "Hi 😀" }],
      ["response.completed", {
        type: "response.completed",
        response: {
          id: "r",
          output: [{ type: "message", content: [{ type: "output_text", text: "Hi 😀" }] }],
          usage: {
            input_tokens: 120,
            input_tokens_details: { cached_tokens: 100 },
            output_tokens: 7,
          },
        },
      }],
    ]),
    usage: { inputTokens: 20, cacheReadTokens: 100, cacheWriteTokens: 0, outputTokens: 7 },
  },
  {
    name: "Claude (message_start, message_delta)",
    shape: "messages",
    text: sse([
      ["message_start", {
        type: "message_start",
        message: {
          id: "m",
          usage: {
            input_tokens: 11,
            cache_read_input_tokens: 300,
            cache_creation_input_tokens: 40,
            output_tokens: 1,
          },
        },
      }],
      ["content_block_delta", { type: "content_block_delta", delta: { text: "usage" } }],
      ["message_delta", { type: "message_delta", usage: { output_tokens: 42 } }],
      ["message_stop", { type: "message_stop" }],
    ], "\r\n"),
    usage: { inputTokens: 11, cacheReadTokens: 300, cacheWriteTokens: 40, outputTokens: 42 },
  },
  {
    name: "Copilot (final chunk)",
    shape: "chat",
    text: sse([
      [undefined, { choices: [{ index: 0, delta: { content: "a" } }] }],
      [undefined, {
        choices: [],
        usage: {
          prompt_tokens: 50,
          completion_tokens: 9,
          prompt_tokens_details: { cached_tokens: 8 },
        },
      }],
      [undefined, "[DONE]"],
    ]),
    usage: { inputTokens: 42, cacheReadTokens: 8, cacheWriteTokens: 0, outputTokens: 9 },
  },
];

Deno.test("the stream layer reads each provider's usage exactly, whatever the chunking", async (t) => {
  for (const p of PROVIDER_STREAMS) {
    await t.step(p.name, async () => {
      const bytes = enc.encode(p.text);
      const chunkings = [
        [bytes],
        ...splits(bytes),
        Array.from(bytes, (b) => Uint8Array.of(b)),
      ];
      for (const [n, chunks] of chunkings.entries()) {
        const r = await run(chunksStream(chunks), p.shape);
        assert.deepEqual(r.usage, p.usage, `${p.name}, chunking ${n}`);
        assert.equal(r.text, p.text, `${p.name}, chunking ${n}: bytes unchanged`);
        assert.deepEqual(r.outcomes, ["completed"]);
      }
    });
  }

  await t.step("a trailing event without its blank line still counts", async () => {
    const r = await run(
      chunksStream([
        enc.encode('data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}'),
      ]),
      "chat",
    );
    assert.deepEqual(r.usage, {
      inputTokens: 3,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 4,
    });
  });
});

Deno.test("passed-through chunks are the backend's own Uint8Arrays", async (t) => {
  await t.step("a plain stream: the very same objects, in order", async () => {
    const chunks = [
      enc.encode("data: a\n\n"),
      enc.encode("data: b"),
      enc.encode("\n\ndata: c\n\n"),
    ];
    const r = await run(chunksStream(chunks), "chat");
    assert.equal(r.out.length, chunks.length);
    for (const [i, c] of chunks.entries()) assert.equal(r.out[i], c, `chunk ${i} is not a copy`);
  });

  await t.step("a byte stream (as fetch bodies): each chunk is the read's own buffer", async () => {
    const chunks = [enc.encode("data: a\n\n"), enc.encode("data: b\n\n")];
    const r = await run(byteStream(chunks), "chat");
    assert.equal(r.text, "data: a\n\ndata: b\n\n");
    for (const c of r.out) {
      // A copy would own a buffer of its own length; the read's view keeps the read buffer.
      assert.equal(c.buffer.byteLength, STREAM_READ_SIZE);
      assert.equal(c.byteOffset, 0);
    }
    assert.notEqual(r.out[0]!.buffer, r.out[1]!.buffer, "a fresh buffer per read");
  });
});

Deno.test("a rewritten stream decodes only the events its rewriter wants", async (t) => {
  const map = buildToolNameMap({ tools: [{ name: "read" }] });
  const upstreamName = map.up.get("read")!;
  const seen: string[] = [];
  const inner = toolNameRewriter(map);
  const rewriter: AnswerRewriter = {
    ...inner,
    event: (e) => {
      seen.push(e.event ?? "");
      return inner.event(e);
    },
  };
  const text = sse([
    ["message_start", { type: "message_start", message: { usage: { input_tokens: 3 } } }],
    ["content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", id: "t", name: upstreamName, input: {} },
    }],
    ["content_block_delta", { type: "content_block_delta", delta: { partial_json: "{}" } }],
    ["message_delta", { type: "message_delta", usage: { output_tokens: 5 } }],
  ]);
  const chunk = enc.encode(text);

  await t.step("only the marked event is handed to the rewriter; usage still counted", async () => {
    const r = await run(chunksStream([chunk]), "messages", { rewriter });
    assert.deepEqual(seen, ["content_block_start"]);
    assert.match(r.text, /"name":"read"/);
    assert.doesNotMatch(r.text, new RegExp(upstreamName));
    assert.deepEqual(r.usage, {
      inputTokens: 3,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 5,
    });
  });

  await t.step(
    "a chunk of untouched events goes out as a view of the backend's chunk",
    async () => {
      const plain = enc.encode(sse([
        ["content_block_delta", { type: "content_block_delta", delta: { text: "x" } }],
        ["ping", { type: "ping" }],
      ]));
      const r = await run(chunksStream([plain]), "messages", { rewriter });
      assert.equal(r.out.length, 1);
      assert.equal(r.out[0]!.buffer, plain.buffer);
      assert.equal(r.text, dec.decode(plain));
    },
  );

  await t.step("whatever the chunking, the same text comes out", async () => {
    const whole = (await run(chunksStream([chunk]), "messages", { rewriter })).text;
    for (const chunks of splits(chunk)) {
      const r = await run(chunksStream(chunks), "messages", { rewriter });
      assert.equal(r.text, whole);
    }
  });
});

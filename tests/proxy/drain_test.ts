/**
 * Backend bodies are read to their end: when Kleis has what it needs before
 * the end (the final event of a stream it collects into JSON), it reads the
 * rest in the background, bounded in time and size, so the backend sees its
 * answer finish rather than a client that went away.
 */
import assert from "node:assert/strict";
import { startHarness } from "./harness.ts";
import { CODEX_PATH } from "../fakes/chatgpt.ts";
import { discardBody, drainRest } from "../../src/body_drain.ts";

Deno.test("a Codex stream collected into JSON is read to its end, not cancelled", async () => {
  await using h = await startHarness();
  await h.codexAccount("a");
  // The backend keeps the stream open a little after response.completed.
  h.fakes.chatgpt.setLinger(150);
  for (let i = 0; i < 3; i++) {
    const res = await h.request("/openai/v1/responses", {
      model: "gpt-5.5",
      input: "hello",
      stream: false,
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, "completed");
  }
  const answers = await h.fakes.chatgpt.waitForBodyEnds();
  assert.equal(answers.length, 3);
  assert.deepEqual(answers.map((r) => [r.path, r.bodyEnd]), [
    [CODEX_PATH, "completed"],
    [CODEX_PATH, "completed"],
    [CODEX_PATH, "completed"],
  ]);
  assert.equal(h.fakes.chatgpt.cancelled, 0);
});

Deno.test("a client that goes away mid-stream still cancels the backend request", async () => {
  await using h = await startHarness();
  await h.claudeAccount("a");
  h.fakes.anthropic.setLinger(5_000);
  const res = await h.request("/anthropic/v1/messages", {
    model: "claude-sonnet-4-5",
    max_tokens: 10,
    stream: true,
    messages: [{ role: "user", content: "hi" }],
  });
  const reader = res.body!.getReader();
  await reader.read();
  await reader.cancel();
  const answers = await h.fakes.anthropic.waitForBodyEnds();
  assert.deepEqual(answers.map((r) => r.bodyEnd), ["cancelled"]);
});

/** A body of `chunks` pieces, then silence for `silentMs` (or for ever) before its end. */
function body(chunks: number, silentMs?: number): ReadableStream<Uint8Array> {
  let sent = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent < chunks) {
        sent++;
        controller.enqueue(new Uint8Array(1000));
        return;
      }
      if (silentMs === undefined) return await new Promise(() => {});
      await new Promise((r) => timer = setTimeout(r, silentMs));
      controller.close();
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}

async function* iterate(stream: ReadableStream<Uint8Array>, abort: AbortController) {
  const reader = stream.getReader();
  abort.signal.addEventListener("abort", () => reader.cancel().catch(() => {}));
  while (true) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

Deno.test("drainRest: to the end when it comes, cut off past the time or size limit", async (t) => {
  await t.step("a body that ends in time is read to its end", async () => {
    const abort = new AbortController();
    assert.equal(await drainRest(iterate(body(3, 20), abort), abort, { ms: 1_000 }), "completed");
    assert.equal(abort.signal.aborted, false);
  });
  await t.step("a body that never ends is cut off at the time limit", async () => {
    const abort = new AbortController();
    const started = Date.now();
    assert.equal(await drainRest(iterate(body(2), abort), abort, { ms: 50 }), "cut");
    assert.ok(abort.signal.aborted);
    assert.ok(Date.now() - started < 1_000);
  });
  await t.step("a body larger than the byte limit is cut off", async () => {
    const abort = new AbortController();
    assert.equal(
      await drainRest(iterate(body(100, 0), abort), abort, { ms: 5_000, bytes: 10_000 }),
      "cut",
    );
    assert.ok(abort.signal.aborted);
  });
});

Deno.test("discardBody reads an unneeded body to its end, bounded in time", async () => {
  let ended = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    let n = 0;
    return new Response(
      new ReadableStream({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 5));
          if (n++ < 5) c.enqueue(new TextEncoder().encode("error text "));
          else {
            ended = "completed";
            c.close();
          }
        },
        cancel() {
          ended = "cancelled";
        },
      }),
      { status: 503 },
    );
  });
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    await discardBody(res);
    assert.equal(ended, "completed");
    const silent = new Response(body(1));
    const started = Date.now();
    await discardBody(silent, { ms: 50 });
    assert.ok(Date.now() - started < 1_000, "a silent body is given up on");
  } finally {
    await server.shutdown();
  }
});

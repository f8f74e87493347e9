/**
 * A JSON answer must reach Deno.serve as the string it was made from. Reading
 * `Response.body` turns such a body into a ReadableStream, and Deno.serve
 * then pipes it through a stream resource instead of writing the bytes at
 * once (measured at about a quarter of the server CPU of a JSON request).
 * The code after the handler (the key's concurrency slot, the open-streams
 * gauge) must therefore decide without reading `body` of a JSON answer.
 */
import assert from "node:assert/strict";
import { releaseWhenSent } from "../../src/auth/api_key_auth.ts";
import { countOpenStream } from "../../src/metrics/metrics.ts";
import { Runtime } from "../../src/runtime.ts";

/** A Response that counts reads of its body. */
class WatchedResponse extends Response {
  bodyReads = 0;
  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    this.bodyReads++;
    return super.body;
  }
}

const json = () =>
  new WatchedResponse('{"ok":true}', { headers: { "content-type": "application/json" } });

Deno.test("JSON answers keep their static body", async (t) => {
  await t.step("the concurrency slot waits for Deno.serve's completed promise", async () => {
    const res = json();
    let released = 0;
    let settle!: () => void;
    const completed = new Promise<void>((resolve) => settle = resolve);
    const c = { res: res as Response, env: { completed } };
    releaseWhenSent(c, { release: () => Promise.resolve(void released++) });
    assert.equal(res.bodyReads, 0);
    assert.equal(c.res, res, "the response is not wrapped");
    assert.equal(released, 0, "held until the answer is sent");
    settle();
    await completed;
    await Promise.resolve();
    assert.equal(released, 1);
  });

  await t.step(
    "without Deno.serve (app.request) the body is wrapped and released at its end",
    async () => {
      const res = json();
      let released = 0;
      const c = { res: res as Response, env: undefined };
      releaseWhenSent(c, { release: () => Promise.resolve(void released++) });
      assert.notEqual(c.res, res);
      assert.equal(released, 0);
      assert.equal(await c.res.text(), '{"ok":true}');
      assert.equal(released, 1);
    },
  );

  await t.step("the open-streams gauge looks at the content type before the body", () => {
    const res = json();
    const ends: (() => void)[] = [];
    countOpenStream({ runtime: new Runtime() }, "copilot", res, { onEnd: (f) => ends.push(f) });
    assert.equal(res.bodyReads, 0);
    assert.equal(ends.length, 0);
    const sse = new WatchedResponse("data: {}\n\n", {
      headers: { "content-type": "text/event-stream" },
    });
    countOpenStream({ runtime: new Runtime() }, "copilot", sse, { onEnd: (f) => ends.push(f) });
    assert.equal(ends.length, 1, "a stream is counted");
  });
});

import assert from "node:assert/strict";
import { Hono } from "hono";
import type { AppEnv } from "../../src/app_env.ts";
import { apiKeyAuth } from "../../src/auth/api_key_auth.ts";
import { createApp } from "../../src/app.ts";
import { KleisError } from "../../src/errors.ts";
import { testDeps } from "../support/test_deps.ts";
import { createKey } from "./helpers.ts";

/** Calls `url` until it answers `status` (a release is committed asynchronously). */
async function until(url: string, secret: string, status: number): Promise<Response> {
  let res = await fetch(url, { headers: { authorization: `Bearer ${secret}` } });
  for (let i = 0; i < 200 && res.status !== status; i++) {
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 10));
    res = await fetch(url, { headers: { authorization: `Bearer ${secret}` } });
  }
  return res;
}

Deno.test("under Deno.serve a concurrency slot is held until the streamed body has been delivered", async (t) => {
  await using deps = await testDeps();
  const { secret } = await createKey(createApp(deps), deps, {
    label: "served",
    limits: { concurrent: 1 },
  });
  // A route behind the key middleware whose streamed body the test ends.
  const bodies: ReadableStreamDefaultController<Uint8Array>[] = [];
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    c.set("requestId", crypto.randomUUID());
    await next();
  });
  app.use("*", apiKeyAuth(deps));
  app.onError((error) =>
    new Response(null, { status: error instanceof KleisError ? error.status : 500 })
  );
  app.get("/stream", () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start: (controller) => {
          bodies.push(controller);
          controller.enqueue(new TextEncoder().encode("first\n"));
        },
      }),
    ));
  await using server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}/stream`;

  await t.step("a second request is refused while the first body streams", async () => {
    const first = await fetch(url, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(first.status, 200);
    const reader = first.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "first\n");
    const second = await fetch(url, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(second.status, 429);
    await second.body?.cancel();

    bodies[0]!.enqueue(new TextEncoder().encode("last\n"));
    bodies[0]!.close();
    while (!(await reader.read()).done) { /* to the end */ }
    const third = await until(url, secret, 200);
    assert.equal(third.status, 200, "the slot was freed once the body was delivered");
    // The third one's own stream holds the slot now; the client leaves.
    await third.body!.cancel();
  });

  await t.step("a client that leaves mid-stream frees its slot", async () => {
    const next = await until(url, secret, 200);
    assert.equal(next.status, 200);
    await next.body!.cancel();
    for (const c of bodies) {
      try {
        c.close();
      } catch { /* already cancelled */ }
    }
  });
});

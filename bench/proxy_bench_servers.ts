/**
 * Servers for bench/proxy_bench.ts, each run as its own process:
 *
 *   backend            a loopback stand-in for the Copilot chat API: JSON, or
 *                      20 SSE events (one chunk each); model "hold" sends one
 *                      event and keeps the stream open until the client leaves
 *   passthrough <url>  the bare Deno fetch pass-through (the ceiling for any
 *                      proxy on this runtime)
 *   relay <url>        the same, but the answer's body relayed through the
 *                      least a proxy that reads the bytes needs: a JS
 *                      ReadableStream whose pull does one BYOB read and one
 *                      enqueue (the floor for any stream layer in JS; the
 *                      pass-through hands the body to Deno.serve natively)
 *
 * Each prints its port on stdout once listening.
 */

const encoder = new TextEncoder();

function chunk(i: number, content: string, extra: Record<string, unknown> = {}) {
  return encoder.encode(`data: ${
    JSON.stringify({
      id: `chatcmpl-bench-${i}`,
      object: "chat.completion.chunk",
      created: 1,
      model: "gpt-4.1",
      choices: [{ index: 0, delta: { content }, finish_reason: null }],
      ...extra,
    })
  }\n\n`);
}

const USAGE = { prompt_tokens: 12, completion_tokens: 19, total_tokens: 31 };

function backend(req: Request, body: { stream?: boolean; model?: string }): Response {
  if (body.stream && body.model === "hold") {
    return new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(chunk(0, "held"));
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  }
  if (body.stream) {
    let i = 0;
    return new Response(
      new ReadableStream({
        pull(c) {
          if (i < 18) c.enqueue(chunk(i, `tok${i} `));
          else if (i === 18) c.enqueue(chunk(i, "", { choices: [], usage: USAGE }));
          else if (i === 19) c.enqueue(encoder.encode("data: [DONE]\n\n"));
          else c.close();
          i++;
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  }
  void req;
  return Response.json({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1,
    model: "gpt-4.1",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "Hello from the bench backend." },
      finish_reason: "stop",
    }],
    usage: USAGE,
  });
}

/** The client's request, sent on to the backend at `target` as it is. */
function forward(req: Request, target: string): Promise<Response> {
  return fetch(target + new URL(req.url).pathname, {
    method: req.method,
    headers: req.headers,
    body: req.body,
    signal: req.signal,
  });
}

if (import.meta.main) {
  const [mode, target] = Deno.args;
  const onListen = ({ port }: { port: number }) => console.log(port);
  if (mode === "backend") {
    Deno.serve({ hostname: "127.0.0.1", port: 0, onListen }, async (req) => {
      // A client that gave up mid-body (the memory run closes 1000 streams at once) is no error here.
      const body = await req.json().catch(() => undefined);
      return body === undefined ? new Response(null, { status: 400 }) : backend(req, body);
    });
  } else if (mode === "passthrough") {
    // The 10-line pass-through of the issue: forward, return the backend's body.
    Deno.serve({ hostname: "127.0.0.1", port: 0, onListen }, async (req) => {
      const res = await forward(req, target!);
      return new Response(res.body, { status: res.status, headers: res.headers });
    });
  } else if (mode === "relay") {
    Deno.serve({ hostname: "127.0.0.1", port: 0, onListen }, async (req) => {
      const res = await forward(req, target!);
      if (!res.body) return new Response(null, { status: res.status, headers: res.headers });
      const reader = res.body.getReader({ mode: "byob" });
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          const r = await reader.read(new Uint8Array(2048)).catch(() => ({ done: true as const }));
          if (r.done) c.close();
          else c.enqueue(r.value);
        },
        cancel: (reason) => reader.cancel(reason),
      }, { highWaterMark: 0 });
      return new Response(body, { status: res.status, headers: res.headers });
    });
  } else {
    console.error("usage: proxy_bench_servers.ts backend | passthrough | relay <backend url>");
    Deno.exit(2);
  }
}

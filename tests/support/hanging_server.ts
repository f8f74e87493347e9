/** A loopback server that accepts connections and never answers (a hung endpoint). */
export function hangingServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) connections.push(conn);
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    connections,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const c of connections) c.close();
      await accepting;
    },
  };
}

/**
 * Starts every fake and prints the environment for Kleis as one JSON line,
 * then keeps running until killed (for benchmarks and manual runs):
 *
 *   deno run --allow-net tests/fakes/serve.ts
 *
 * The GitHub poll interval is not enforced here (interval 0).
 */
import { startAllFakes } from "./mod.ts";

if (import.meta.main) {
  const fakes = await startAllFakes({ github: { interval: 0 } });
  console.log(JSON.stringify(fakes.env));
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => Deno.exit(0));
  }
}

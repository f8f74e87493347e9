/**
 * `deno task bench`: runs every area's benchmark in turn (each file exports
 * `run()` and prints its own figures). Pass names to run only some:
 * `deno task bench auth`.
 */
import { run as auth } from "./auth_bench.ts";
import { run as usage } from "./usage_bench.ts";
import { run as proxy } from "./proxy_bench.ts";

const BENCHES: Record<string, () => Promise<void>> = {
  auth,
  usage,
  proxy,
};

const wanted = Deno.args.length > 0 ? Deno.args : Object.keys(BENCHES);
for (const name of wanted) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`Unknown bench "${name}"; known: ${Object.keys(BENCHES).join(", ")}.`);
    Deno.exit(1);
  }
  await bench();
}

/**
 * Composition root: configuration → KV → app → server, plus the cron jobs
 * and the usage queue listener. Nothing else in Kleis reads the environment.
 *
 * Everything runs at the top level of this module, in this order, because
 * Deno Deploy only picks up Deno.cron registrations made at module top level
 * before the server starts.
 */
import { type Config, ConfigError, DEFAULT_LOCAL_KV_PATH, loadConfig } from "./src/config.ts";
import { resolveLocalSecrets } from "./src/local_secrets.ts";
import { createDeps } from "./src/deps.ts";
import { createApp } from "./src/app.ts";
import { startBackgroundWork } from "./src/jobs/background.ts";
import { flushUsage } from "./src/usage/record.ts";
import { openKv } from "./src/kv/open.ts";
import { RestoreError, restoreOnStart } from "./src/backup/restore_on_start.ts";

const env = Deno.env.toObject();
const onDeploy = Boolean(env.DENO_DEPLOYMENT_ID);
const kvPath = env.KLEIS_KV_PATH?.trim() || (onDeploy ? undefined : DEFAULT_LOCAL_KV_PATH);

let config: Config;
let generatedAdminToken: string | undefined;
try {
  const resolved = kvPath === undefined ? { secrets: {} } : await resolveLocalSecrets(env, kvPath);
  generatedAdminToken = "generatedAdminToken" in resolved
    ? resolved.generatedAdminToken
    : undefined;
  config = loadConfig(env, resolved.secrets);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`Kleis cannot start: ${error.message}`);
  Deno.exit(1);
}

if (config.kvPath && !config.kvPath.startsWith("http") && config.kvPath !== ":memory:") {
  const dir = config.kvPath.slice(0, config.kvPath.lastIndexOf("/"));
  if (dir) await Deno.mkdir(dir, { recursive: true });
}
const kv = await openKv(config.kvPath);
const deps = await createDeps(kv, config);
const app = createApp(deps);
startBackgroundWork(deps);

// After the cron registrations (they must come first on Deno Deploy), before serving:
// with KLEIS_RESTORE_FROM and an empty store, the first request already sees the accounts.
try {
  await restoreOnStart(deps);
} catch (error) {
  if (!(error instanceof RestoreError)) throw error;
  console.error(`Kleis cannot start: KLEIS_RESTORE_FROM: ${error.message}`);
  Deno.exit(1);
}

// A graceful stop writes the usage events still buffered before exiting
// (Deno Deploy stops an instance with SIGINT and allows it 5 seconds).
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, async () => {
    await flushUsage(deps);
    kv.close();
    Deno.exit(0);
  });
}

if (onDeploy) {
  Deno.serve(app.fetch);
} else {
  Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen: ({ hostname, port }) => {
      const base = config.publicUrl ?? `http://${hostname}:${port}`;
      console.log(`Kleis listening on http://${hostname}:${port} (admin page: ${base}/admin/)`);
      if (generatedAdminToken) {
        console.log(
          `\nFirst start: generated an admin token (shown this once, saved beside the KV file):\n\n  ${generatedAdminToken}\n\nSign in at ${base}/admin/\n`,
        );
      }
    },
  }, app.fetch);
}

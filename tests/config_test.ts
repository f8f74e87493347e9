import assert from "node:assert/strict";
import { ConfigError, loadConfig, UPSTREAM_VARIABLES } from "../src/config.ts";
import { testConfig } from "./support/test_config.ts";
import { resolveLocalSecrets, secretsFileFor } from "../src/local_secrets.ts";
import { startKleis } from "./support/kleis_process.ts";

const GOOD_KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(1)));
const GOOD_SECRETS = { adminToken: "a".repeat(32), encryptionKey: GOOD_KEY };

function configError(env: Record<string, string>, secrets: object = GOOD_SECRETS): ConfigError {
  try {
    loadConfig(env, secrets);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

Deno.test("loadConfig() parses defaults into a frozen, typed object", () => {
  const config = loadConfig({}, GOOD_SECRETS);
  assert.equal(Object.isFrozen(config), true);
  assert.equal(Object.isFrozen(config.upstream), true);
  assert.equal(config.port, 8787);
  assert.equal(config.hostname, "127.0.0.1");
  assert.equal(config.kvPath, "./data/kleis.db");
  assert.equal(config.trustProxy, false);
  assert.equal(config.maxBodyBytes, 33554432);
  assert.equal(config.refreshCron, "*/5 * * * *");
  assert.equal(config.usageRetentionDays, 30);
  assert.equal(config.modelsDevUrl, "https://models.dev/api.json");
  assert.equal(config.upstream.chatgpt, "https://chatgpt.com");
  assert.equal(config.encryptionKey.length, 32);
  assert.equal(config.onDeploy, false);
  assert.equal(config.metricsToken, undefined);
  assert.throws(() => {
    (config as { port: number }).port = 1;
  });
});

Deno.test("loadConfig() reads every variable when it is valid", () => {
  const env: Record<string, string> = {
    KLEIS_KV_PATH: "https://kv.example.com/db",
    PORT: "9000",
    HOSTNAME: "0.0.0.0",
    KLEIS_PUBLIC_URL: "https://kleis.example.com/",
    KLEIS_TRUST_PROXY: "true",
    KLEIS_MAX_BODY_BYTES: "2048",
    KLEIS_REFRESH_CRON: "0,30 */2 1-15 * 1-5",
    KLEIS_USAGE_RETENTION_DAYS: "7",
    KLEIS_MODELS_DEV_URL: "http://127.0.0.1:9/api.json",
    KLEIS_METRICS_TOKEN: "m".repeat(32),
  };
  for (const [name] of Object.values(UPSTREAM_VARIABLES)) env[name] = "http://127.0.0.1:4000";
  const config = loadConfig(env, GOOD_SECRETS);
  assert.equal(config.kvPath, "https://kv.example.com/db");
  assert.equal(config.port, 9000);
  assert.equal(config.hostname, "0.0.0.0");
  assert.equal(config.publicUrl, "https://kleis.example.com");
  assert.equal(config.trustProxy, true);
  assert.equal(config.maxBodyBytes, 2048);
  assert.equal(config.refreshCron, "0,30 */2 1-15 * 1-5");
  assert.equal(config.usageRetentionDays, 7);
  assert.equal(config.modelsDevUrl, "http://127.0.0.1:9/api.json");
  assert.equal(config.metricsToken, "m".repeat(32));
  for (const origin of Object.values(config.upstream)) {
    assert.equal(origin, "http://127.0.0.1:4000");
  }
});

Deno.test("each invalid configuration value stops start-up with a message naming its variable", async (t) => {
  const cases: [string, string][] = [
    ["KLEIS_KV_PATH", "https://"],
    ["PORT", "http"],
    ["PORT", "-1"],
    ["PORT", "65536"],
    ["PORT", "80.5"],
    ["HOSTNAME", "http://0.0.0.0"],
    ["HOSTNAME", "bad host"],
    ["KLEIS_PUBLIC_URL", "kleis.example.com"],
    ["KLEIS_PUBLIC_URL", "ftp://kleis.example.com"],
    ["KLEIS_TRUST_PROXY", "maybe"],
    ["KLEIS_MAX_BODY_BYTES", "lots"],
    ["KLEIS_MAX_BODY_BYTES", "10"],
    ["KLEIS_MAX_BODY_BYTES", String(1024 ** 3 + 1)],
    ["KLEIS_REFRESH_CRON", "every 5 minutes"],
    ["KLEIS_REFRESH_CRON", "*/5 * * *"],
    ["KLEIS_REFRESH_CRON", "60 * * * *"],
    ["KLEIS_REFRESH_CRON", "* 24 * * *"],
    ["KLEIS_REFRESH_CRON", "* * 0 * *"],
    ["KLEIS_REFRESH_CRON", "*/0 * * * *"],
    ["KLEIS_USAGE_RETENTION_DAYS", "0"],
    ["KLEIS_USAGE_RETENTION_DAYS", "forever"],
    ["KLEIS_MODELS_DEV_URL", "models.dev"],
    ["KLEIS_MODELS_DEV_URL", "file:///etc/passwd"],
    ["KLEIS_METRICS_TOKEN", "m".repeat(31)],
  ];
  for (const [name] of Object.values(UPSTREAM_VARIABLES)) {
    cases.push([name, "not a url"], [name, "https://example.com/path"], [
      name,
      "ftp://example.com",
    ]);
    cases.push([name, "https://user:pw@example.com"]);
  }
  for (const [name, raw] of cases) {
    await t.step(`${name}=${raw}`, () => {
      const error = configError({ [name]: raw });
      assert.equal(error.variable, name);
      assert.match(error.message, new RegExp(`^${name}: `));
    });
  }

  await t.step("ADMIN_TOKEN shorter than 32 characters", () => {
    const error = configError({}, { ...GOOD_SECRETS, adminToken: "a".repeat(31) });
    assert.equal(error.variable, "ADMIN_TOKEN");
    assert.match(error.message, /at least 32 characters/);
  });
  await t.step("ADMIN_TOKEN from the environment is checked too", () => {
    const error = configError({ ADMIN_TOKEN: "short", KLEIS_ENCRYPTION_KEY: GOOD_KEY }, {});
    assert.equal(error.variable, "ADMIN_TOKEN");
  });
  await t.step("KLEIS_ENCRYPTION_KEY that is not base64", () => {
    const error = configError({}, { ...GOOD_SECRETS, encryptionKey: "not base64!!" });
    assert.equal(error.variable, "KLEIS_ENCRYPTION_KEY");
    assert.match(error.message, /base64/);
  });
  await t.step("KLEIS_ENCRYPTION_KEY of the wrong length", () => {
    const short = btoa("x".repeat(16));
    const error = configError({}, { ...GOOD_SECRETS, encryptionKey: short });
    assert.equal(error.variable, "KLEIS_ENCRYPTION_KEY");
    assert.match(error.message, /32 bytes \(got 16\)/);
  });
  await t.step("missing secrets with DENO_DEPLOYMENT_ID set", () => {
    const noToken = configError({ DENO_DEPLOYMENT_ID: "d1", KLEIS_ENCRYPTION_KEY: GOOD_KEY }, {});
    assert.equal(noToken.variable, "ADMIN_TOKEN");
    assert.match(noToken.message, /required/);
    const noKey = configError({ DENO_DEPLOYMENT_ID: "d1", ADMIN_TOKEN: "a".repeat(32) }, {});
    assert.equal(noKey.variable, "KLEIS_ENCRYPTION_KEY");
  });
});

/** Runs main.ts with only the given environment and returns its exit code and stderr. */
async function runMain(env: Record<string, string>) {
  const inherit = ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"];
  const base = Object.fromEntries(
    inherit.flatMap((name) => Deno.env.get(name) ? [[name, Deno.env.get(name)!]] : []),
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("../main.ts", import.meta.url).pathname],
    env: { ...base, ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stderr: new TextDecoder().decode(out.stderr),
    stdout: new TextDecoder().decode(out.stdout),
  };
}

Deno.test({
  name: "main.ts exits 1 naming the variable when the configuration is bad",
  // Spawns real processes; their pipes are fully read by output().
  async fn(t) {
    const dir = await Deno.makeTempDir();
    try {
      const secrets = { ADMIN_TOKEN: "b".repeat(40), KLEIS_ENCRYPTION_KEY: GOOD_KEY };
      const cases: [string, Record<string, string>][] = [
        ["PORT", { ...secrets, KLEIS_KV_PATH: `${dir}/a.db`, PORT: "not-a-port" }],
        ["ADMIN_TOKEN", { ...secrets, KLEIS_KV_PATH: `${dir}/b.db`, ADMIN_TOKEN: "short" }],
        ["ADMIN_TOKEN", { DENO_DEPLOYMENT_ID: "deploy-1", KLEIS_ENCRYPTION_KEY: GOOD_KEY }],
        ["KLEIS_UPSTREAM_CHATGPT", {
          ...secrets,
          KLEIS_KV_PATH: `${dir}/c.db`,
          KLEIS_UPSTREAM_CHATGPT: "https://chatgpt.com/backend-api",
        }],
      ];
      // Start them all at once (each takes a moment), then check each.
      const results = await Promise.all(cases.map(([, env]) => runMain(env)));
      for (const [i, [name, env]] of cases.entries()) {
        await t.step(`${name}: ${Object.keys(env).join(", ")}`, () => {
          const result = results[i]!;
          assert.equal(result.code, 1, result.stderr);
          assert.match(result.stderr, new RegExp(`Kleis cannot start: ${name}: `));
          assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("testConfig() gives valid secrets and in-memory KV", () => {
  const config = testConfig({ port: 1 });
  assert.equal(config.kvPath, ":memory:");
  assert.equal(config.port, 1);
  assert.ok(config.adminToken.length >= 32);
});

Deno.test("local secrets: generated once with mode 0600, reused on the next start", async (t) => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/data/kleis.db`;
  try {
    let first: Awaited<ReturnType<typeof resolveLocalSecrets>>;
    await t.step("the first start generates both and reports the admin token", async () => {
      first = await resolveLocalSecrets({}, kvPath);
      assert.equal(first.file, `${dir}/data/kleis.secrets.json`);
      assert.equal(first.generatedAdminToken, first.secrets.adminToken);
      const config = loadConfig({ KLEIS_KV_PATH: kvPath }, first.secrets);
      assert.equal(config.adminToken.length, 40);
      assert.equal(config.encryptionKey.length, 32);
      const info = await Deno.stat(first.file!);
      assert.equal(info.mode! & 0o777, 0o600);
    });

    await t.step("the next start reuses them and reports nothing new", async () => {
      const second = await resolveLocalSecrets({}, kvPath);
      assert.deepEqual(second.secrets, first.secrets);
      assert.equal(second.generatedAdminToken, undefined);
    });

    await t.step(
      "secrets given in the environment win and are not written to the file",
      async () => {
        const other = await Deno.makeTempDir();
        const given = "g".repeat(32);
        const resolved = await resolveLocalSecrets({ ADMIN_TOKEN: given }, `${other}/kleis.db`);
        assert.equal(resolved.secrets.adminToken, given);
        assert.equal(resolved.generatedAdminToken, undefined);
        const text = await Deno.readTextFile(secretsFileFor(`${other}/kleis.db`));
        assert.equal(text.includes(given), false);
        assert.ok(JSON.parse(text).encryptionKey);
        await Deno.remove(other, { recursive: true });
      },
    );

    await t.step("with DENO_DEPLOYMENT_ID nothing is generated or written", async () => {
      const other = await Deno.makeTempDir();
      const resolved = await resolveLocalSecrets({ DENO_DEPLOYMENT_ID: "x" }, `${other}/kleis.db`);
      assert.deepEqual(resolved.secrets, {});
      assert.deepEqual([...Deno.readDirSync(other)], []);
      await Deno.remove(other, { recursive: true });
    });

    await t.step("an unreadable secrets file stops start-up naming KLEIS_KV_PATH", async () => {
      await Deno.writeTextFile(first.file!, "{ not json");
      await assert.rejects(() => resolveLocalSecrets({}, kvPath), (e: ConfigError) => {
        assert.equal(e.variable, "KLEIS_KV_PATH");
        return true;
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "main.ts prints a generated admin token once, and not on the next start",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const env = { ADMIN_TOKEN: "", KLEIS_ENCRYPTION_KEY: "" };
      let token: string;
      {
        await using kleis = await startKleis({ env, dir });
        const match = /generated an admin token[^\n]*\n\n\s+([0-9A-Za-z]{40})\n/.exec(
          kleis.output(),
        );
        assert.ok(match, kleis.output());
        token = match[1]!;
        assert.match(kleis.output(), /Sign in at http:\/\/127\.0\.0\.1:\d+\/admin\//);
        const res = await fetch(`${kleis.url}/admin/keys`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(res.status, 200);
        await res.body?.cancel();
      }
      {
        await using kleis = await startKleis({ env, dir });
        assert.equal(kleis.output().includes(token), false);
        const res = await fetch(`${kleis.url}/admin/keys`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(res.status, 200, "the stored token is reused");
        await res.body?.cancel();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

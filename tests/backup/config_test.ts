/** KLEIS_BACKUP_* and KLEIS_RESTORE_FROM: parsed at start-up; a bad value names its variable. */
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../src/config.ts";

const SECRETS = {
  adminToken: "a".repeat(32),
  encryptionKey: btoa(String.fromCharCode(...new Uint8Array(32).fill(1))),
};
const S3_KEYS = {
  KLEIS_BACKUP_S3_ACCESS_KEY_ID: "AKIDEXAMPLE",
  KLEIS_BACKUP_S3_SECRET_ACCESS_KEY: "s3-secret-value",
};

function error(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, SECRETS);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

Deno.test("backup configuration", async (t) => {
  await t.step("defaults: no target, hourly, keep 48", () => {
    const { backup } = loadConfig({}, SECRETS);
    assert.deepEqual(backup, {
      target: undefined,
      restoreFrom: undefined,
      keep: 48,
      schedule: "41 * * * *",
    });
    assert.equal(Object.isFrozen(backup), true);
  });

  await t.step("each target form", () => {
    const dir = loadConfig({ KLEIS_BACKUP_TARGET: "dir:./backups" }, SECRETS).backup;
    assert.deepEqual(dir.target, { kind: "dir", path: "./backups" });
    const s3 = loadConfig({
      KLEIS_BACKUP_TARGET: "s3://my-bucket/kleis/prod/",
      KLEIS_RESTORE_FROM: "s3://my-bucket",
      KLEIS_BACKUP_S3_REGION: "eu-central-1",
      KLEIS_BACKUP_KEEP: "7",
      KLEIS_BACKUP_SCHEDULE: "0 */6 * * *",
      ...S3_KEYS,
    }, SECRETS).backup;
    assert.deepEqual(s3.target, {
      kind: "s3",
      endpoint: "https://s3.eu-central-1.amazonaws.com",
      bucket: "my-bucket",
      prefix: "kleis/prod/",
      region: "eu-central-1",
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "s3-secret-value",
    });
    assert.equal(s3.restoreFrom?.kind === "s3" && s3.restoreFrom.prefix, "");
    assert.equal(s3.keep, 7);
    assert.equal(s3.schedule, "0 */6 * * *");
    const git = loadConfig({
      KLEIS_BACKUP_TARGET: "git:https://github.com/me/kleis-backups.git",
      KLEIS_BACKUP_GIT_TOKEN: "ghp_token",
      KLEIS_BACKUP_GIT_BRANCH: "backups",
    }, SECRETS).backup;
    const ssh = loadConfig({ KLEIS_BACKUP_TARGET: "git:ssh://git@host.example/me/b.git" }, SECRETS);
    assert.equal(
      ssh.backup.target?.kind === "git" && ssh.backup.target.remote,
      "ssh://git@host.example/me/b.git",
    );
    assert.deepEqual(git.target, {
      kind: "git",
      remote: "https://github.com/me/kleis-backups.git",
      branch: "backups",
      token: "ghp_token",
      tokenUser: "x-access-token",
      sshKeyFile: undefined,
    });
  });

  await t.step("bad values stop start-up naming the variable, never echoing a secret", () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ KLEIS_BACKUP_TARGET: "ftp://host/x" }, "KLEIS_BACKUP_TARGET", /dir:, s3:\/\/ or git:/],
      [{ KLEIS_BACKUP_TARGET: "dir:" }, "KLEIS_BACKUP_TARGET", /directory path/],
      [{ KLEIS_BACKUP_TARGET: "s3://", ...S3_KEYS }, "KLEIS_BACKUP_TARGET", /s3:\/\/bucket/],
      [{ KLEIS_BACKUP_TARGET: "s3://bucket" }, "KLEIS_BACKUP_S3_ACCESS_KEY_ID", /required/],
      [
        { KLEIS_BACKUP_TARGET: "s3://bucket", KLEIS_BACKUP_S3_ACCESS_KEY_ID: "x" },
        "KLEIS_BACKUP_S3_SECRET_ACCESS_KEY",
        /required/,
      ],
      [
        { KLEIS_BACKUP_TARGET: "s3://bucket", KLEIS_BACKUP_S3_ENDPOINT: "minio:9000", ...S3_KEYS },
        "KLEIS_BACKUP_S3_ENDPOINT",
        /http or https/,
      ],
      [
        { KLEIS_BACKUP_TARGET: "s3://bucket", KLEIS_BACKUP_S3_REGION: "EU West", ...S3_KEYS },
        "KLEIS_BACKUP_S3_REGION",
        /region/,
      ],
      [
        { KLEIS_BACKUP_TARGET: "git:https://me:ghp_secret123@github.com/me/b.git" },
        "KLEIS_BACKUP_TARGET",
        /KLEIS_BACKUP_GIT_TOKEN/,
      ],
      [
        { KLEIS_BACKUP_TARGET: "git:https://ghp_secret123@github.com/me/b.git" },
        "KLEIS_BACKUP_TARGET",
        /KLEIS_BACKUP_GIT_TOKEN/,
      ],
      [
        { KLEIS_BACKUP_TARGET: "git:/srv/b.git", KLEIS_BACKUP_GIT_BRANCH: "a..b" },
        "KLEIS_BACKUP_GIT_BRANCH",
        /branch/,
      ],
      [{ KLEIS_RESTORE_FROM: "nowhere" }, "KLEIS_RESTORE_FROM", /must start with/],
      [{ KLEIS_BACKUP_KEEP: "0" }, "KLEIS_BACKUP_KEEP", /between 1 and/],
      [{ KLEIS_BACKUP_KEEP: "many" }, "KLEIS_BACKUP_KEEP", /whole number/],
      [{ KLEIS_BACKUP_SCHEDULE: "hourly" }, "KLEIS_BACKUP_SCHEDULE", /cron/],
      [
        { KLEIS_BACKUP_TARGET: "dir:/data", DENO_DEPLOYMENT_ID: "x" },
        "KLEIS_BACKUP_TARGET",
        /Deploy/,
      ],
      [
        { KLEIS_BACKUP_TARGET: "git:/srv/b.git", DENO_DEPLOYMENT_ID: "x" },
        "KLEIS_BACKUP_TARGET",
        /Deploy/,
      ],
    ];
    for (const [env, variable, message] of cases) {
      const e = error(env);
      assert.equal(e.variable, variable, JSON.stringify(env));
      assert.match(e.message, message);
      assert.ok(!e.message.includes("ghp_secret123"));
      assert.ok(!e.message.includes("s3-secret-value"));
    }
  });
});

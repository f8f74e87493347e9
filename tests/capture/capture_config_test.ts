/** KLEIS_CAPTURE_*: defaults, valid values, and invalid values naming their variable. */
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../src/config.ts";

const SECRETS = {
  adminToken: "a".repeat(32),
  encryptionKey: btoa(String.fromCharCode(...new Uint8Array(32).fill(1))),
};

Deno.test("capture configuration: defaults, values, refusals", async (t) => {
  await t.step("defaults: 24 h, 256 KiB per body, 100 per key", () => {
    const { capture } = loadConfig({}, SECRETS);
    assert.deepEqual(capture, {
      retentionMs: 24 * 3_600_000,
      maxBodyBytes: 262_144,
      maxPerKey: 100,
    });
    assert.ok(Object.isFrozen(capture));
  });

  await t.step("valid values are read", () => {
    const { capture } = loadConfig({
      KLEIS_CAPTURE_RETENTION_HOURS: "168",
      KLEIS_CAPTURE_MAX_BODY_BYTES: "1048576",
      KLEIS_CAPTURE_MAX_PER_KEY: "1",
    }, SECRETS);
    assert.deepEqual(capture, {
      retentionMs: 168 * 3_600_000,
      maxBodyBytes: 1_048_576,
      maxPerKey: 1,
    });
  });

  await t.step("invalid values stop start-up naming the variable", () => {
    const cases: [string, string][] = [
      ["KLEIS_CAPTURE_RETENTION_HOURS", "0"],
      ["KLEIS_CAPTURE_RETENTION_HOURS", "169"],
      ["KLEIS_CAPTURE_RETENTION_HOURS", "1.5"],
      ["KLEIS_CAPTURE_MAX_BODY_BYTES", "1023"],
      ["KLEIS_CAPTURE_MAX_BODY_BYTES", "1048577"],
      ["KLEIS_CAPTURE_MAX_PER_KEY", "0"],
      ["KLEIS_CAPTURE_MAX_PER_KEY", "many"],
    ];
    for (const [name, value] of cases) {
      assert.throws(
        () => loadConfig({ [name]: value }, SECRETS),
        (error) => error instanceof ConfigError && error.variable === name,
        `${name}=${value}`,
      );
    }
  });
});

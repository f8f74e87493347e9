import assert from "node:assert/strict";
import {
  copilotApiBase,
  githubApiOrigin,
  githubOrigin,
  normaliseEnterpriseDomain,
} from "../../src/providers/copilot/hosts.ts";
import { copilotNeedsRefresh } from "../../src/providers/copilot/refresh.ts";
import { parseCredentialInput } from "../../src/accounts/import.ts";
import { testConfig } from "../support/test_config.ts";

Deno.test("normaliseEnterpriseDomain() reduces input to a bare hostname", () => {
  assert.equal(normaliseEnterpriseDomain("https://GHE.Example.com/login?x=1"), "ghe.example.com");
  assert.equal(normaliseEnterpriseDomain("ghe.example.com"), "ghe.example.com");
  assert.equal(normaliseEnterpriseDomain("github.com"), undefined);
  assert.equal(normaliseEnterpriseDomain("  "), undefined);
  assert.equal(normaliseEnterpriseDomain("http://127.0.0.1:4000"), "127.0.0.1:4000");
  assert.throws(() => normaliseEnterpriseDomain("http://ghe.example.com"), /https/);
  assert.throws(() => normaliseEnterpriseDomain("ftp://x.y"), /https/);
  assert.throws(() => normaliseEnterpriseDomain("not a host"), /hostname/);
});

Deno.test("Enterprise origins: https://<domain>, api.<domain>, copilot-api.<domain>; loopback uses the configured fakes", () => {
  const deps = { config: testConfig() };
  assert.equal(githubOrigin(deps, "ghe.example.com"), "https://ghe.example.com");
  assert.equal(githubApiOrigin(deps, "ghe.example.com"), "https://api.ghe.example.com");
  assert.equal(copilotApiBase(deps, "ghe.example.com"), "https://copilot-api.ghe.example.com");
  assert.equal(githubOrigin(deps, undefined), "https://github.com");
  assert.equal(copilotApiBase(deps, undefined), "https://api.githubcopilot.com");
  assert.equal(githubOrigin(deps, "127.0.0.1:4000"), "http://127.0.0.1:4000");
  assert.equal(githubApiOrigin(deps, "127.0.0.1:4000"), "https://api.github.com");
});

Deno.test("copilotNeedsRefresh(): gho_ only when forced; ghu_ when the Copilot token is missing or near expiry", () => {
  const now = 1_000_000;
  assert.equal(copilotNeedsRefresh({ accessToken: "gho_x" }, now, false), false);
  assert.equal(copilotNeedsRefresh({ accessToken: "gho_x" }, now, true), true);
  assert.equal(copilotNeedsRefresh({ accessToken: "ghu_x" }, now, false), true);
  const cached = {
    accessToken: "ghu_x",
    copilotToken: "t",
    copilotTokenExpiresAt: now + 6 * 60_000,
  };
  assert.equal(copilotNeedsRefresh(cached, now, false), false);
  assert.equal(copilotNeedsRefresh(cached, now + 2 * 60_000, false), true);
});

Deno.test("parseCredentialInput() for copilot: apps.json host, hosts.json, OpenCode entry", () => {
  const apps = parseCredentialInput("copilot", {
    "ghe.example.com:Iv1.b507a08c87ecfe98": {
      user: "u",
      oauth_token: "ghu_a",
      githubAppId: "Iv1.b507a08c87ecfe98",
    },
  });
  assert.deepEqual(apps, { accessToken: "ghu_a", host: "ghe.example.com", user: "u" });
  const hosts = parseCredentialInput("copilot", {
    "github.com": { user: "u", oauth_token: "gho_b" },
  });
  assert.deepEqual(hosts, { accessToken: "gho_b", user: "u" });
  const oc = parseCredentialInput("copilot", {
    "github-copilot": { type: "oauth", refresh: "gho_c", access: "gho_c", expires: 0 },
  });
  assert.deepEqual(oc, { accessToken: "gho_c" });
  assert.throws(
    () => parseCredentialInput("claude", { "github.com": { oauth_token: "gho_b" } }),
    /copilot/,
  );
});

import assert from "node:assert/strict";
import { testDeps } from "./support/test_deps.ts";
import { createApp } from "../src/app.ts";
import { hashKeySecret } from "../src/keys/secret.ts";
import { adminCall, callWithKey, createKey, fromAddress } from "./keys/helpers.ts";
import { openKv } from "../src/kv/open.ts";

/** Every byte KV keeps on disk for a database file: the file and its -wal and -shm companions. */
async function databaseBytes(path: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      out.push(await Deno.readFile(file));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return out;
}

function contains(haystacks: Uint8Array[], text: string): boolean {
  const needle = new TextEncoder().encode(text);
  return haystacks.some((bytes) => {
    outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
      for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
      return true;
    }
    return false;
  });
}

Deno.test("the KV file on disk holds neither an API key secret nor the admin token in clear", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kleis.db`;
  const secrets: string[] = [];
  let keyId = "";
  {
    const kv = await openKv(path);
    await using deps = await testDeps({ kv });
    const app = createApp(deps);
    // Everything that touches keys and the admin token: create, use, rotate, wrong tokens.
    for (let i = 0; i < 3; i++) {
      const created = await createKey(app, deps, {
        label: `key ${i}`,
        limits: { requestsPerMinute: 100, concurrent: 5 },
      });
      secrets.push(created.secret);
      keyId = created.key.id;
      const res = await callWithKey(app, created.secret);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    const rotated = await adminCall(app, deps, "POST", `/admin/keys/${keyId}/rotate`, {
      graceSeconds: 3600,
    });
    secrets.push(rotated.json.secret as string);
    for (let i = 0; i < 3; i++) {
      const res = await app.request("/admin/keys", {
        headers: { authorization: `Bearer ${deps.config.adminToken.slice(0, -1)}x` },
      }, fromAddress("192.0.2.5"));
      await res.body?.cancel();
    }
    kv.close();

    const bytes = await databaseBytes(path);
    assert.ok(bytes.length > 0);

    await t.step("the search finds what is stored (the hashes and labels)", () => {
      assert.equal(contains(bytes, "key 0"), true);
      for (const secret of secrets) assert.equal(contains(bytes, hashKeySecret(secret)), true);
    });

    await t.step("no key secret, and no part of one past its display prefix", () => {
      for (const secret of secrets) {
        assert.equal(contains(bytes, secret), false);
        assert.equal(contains(bytes, secret.slice(12)), false);
      }
    });

    await t.step("no admin token", () => {
      assert.equal(contains(bytes, deps.config.adminToken), false);
      assert.equal(contains(bytes, deps.config.adminToken.slice(0, -1)), false);
    });
  }
  await Deno.remove(dir, { recursive: true });
});

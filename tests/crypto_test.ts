import assert from "node:assert/strict";
import {
  base64UrlDecode,
  base64UrlEncode,
  constantTimeEqual,
  createPkce,
  decodeJwtPayload,
  importSealingKey,
  pkceChallenge,
  randomBase62,
  randomId,
  seal,
  sha256Hex,
  timeOrderedId,
  unseal,
} from "../src/crypto.ts";

const key = () => importSealingKey(new Uint8Array(32).fill(3));

Deno.test("seal() and unseal()", async (t) => {
  const k = await key();
  const value = { accessToken: "at-123", refreshToken: "rt-456", n: 1 };

  await t.step("round-trip a JSON value", async () => {
    const sealed = await seal(k, value, "account:1");
    assert.deepEqual(await unseal(k, sealed, "account:1"), value);
    assert.equal(sealed.includes("at-123"), false);
  });

  await t.step("each write uses a fresh IV, so equal values seal differently", async () => {
    const a = await seal(k, value, "account:1");
    const b = await seal(k, value, "account:1");
    assert.notEqual(a, b);
    assert.notEqual(a.split(".")[1], b.split(".")[1]);
    assert.equal(base64UrlDecode(a.split(".")[1]!).length, 12);
  });

  await t.step("the wrong context fails (a blob cannot move to another record)", async () => {
    const sealed = await seal(k, value, "account:1");
    await assert.rejects(() => unseal(k, sealed, "account:2"));
  });

  await t.step("the wrong key fails", async () => {
    const sealed = await seal(k, value, "account:1");
    const other = await importSealingKey(new Uint8Array(32).fill(4));
    await assert.rejects(() => unseal(other, sealed, "account:1"));
  });

  await t.step("tampered data or an unknown format fails", async () => {
    const sealed = await seal(k, value, "account:1");
    const [v, iv, data] = sealed.split(".");
    const bytes = base64UrlDecode(data!);
    bytes[0]! ^= 1;
    await assert.rejects(() => unseal(k, `${v}.${iv}.${base64UrlEncode(bytes)}`, "account:1"));
    await assert.rejects(() => unseal(k, "v0.a.b", "account:1"), /unknown format/);
  });

  await t.step("a sealing key must be 32 bytes", async () => {
    await assert.rejects(() => importSealingKey(new Uint8Array(16)), /32 bytes/);
  });
});

Deno.test("PKCE S256 matches the RFC 7636 appendix B vector", async () => {
  assert.equal(
    await pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
  // The RFC's verifier is base64url of these 32 octets.
  const octets = [
    116,
    24,
    223,
    180,
    151,
    153,
    224,
    37,
    79,
    250,
    96,
    125,
    216,
    173,
    187,
    186,
    22,
    212,
    37,
    77,
    105,
    214,
    191,
    240,
    91,
    88,
    5,
    88,
    83,
    132,
    141,
    121,
  ];
  const pkce = await createPkce(() => new Uint8Array(octets));
  assert.deepEqual(pkce, {
    verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  });
  const fresh = await createPkce();
  assert.match(fresh.verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(fresh.challenge, await pkceChallenge(fresh.verifier));
});

Deno.test("sha256Hex() hashes to the known digest", async () => {
  assert.equal(
    await sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("constantTimeEqual() tells equal from different strings", async () => {
  assert.equal(await constantTimeEqual("same-secret", "same-secret"), true);
  assert.equal(await constantTimeEqual("same-secret", "same-secreT"), false);
  assert.equal(await constantTimeEqual("short", "longer-string"), false);
  assert.equal(await constantTimeEqual("", ""), true);
});

Deno.test("random ids and secrets carry at least 128 bits and the right alphabet", () => {
  const ids = new Set(Array.from({ length: 1000 }, () => randomId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/); // 16 bytes
  const secret = randomBase62(40);
  assert.match(secret, /^[0-9A-Za-z]{40}$/); // 40 × log2(62) ≈ 238 bits
  // Rejection sampling: bytes ≥ 248 are skipped, never mapped.
  let calls = 0;
  const biased = (n: number) => {
    calls++;
    return new Uint8Array(n).fill(calls === 1 ? 255 : 61);
  };
  assert.equal(randomBase62(4, biased), "zzzz");
});

Deno.test("timeOrderedId() sorts by time as a string", () => {
  const ids = [5, 1_000, 1_700_000_000_000, 1_700_000_000_001].map((t) => timeOrderedId(t));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(ids[0]!.slice(0, 12), "000000000005");
});

Deno.test("decodeJwtPayload() reads claims and returns undefined for garbage", () => {
  const payload = base64UrlEncode(new TextEncoder().encode(JSON.stringify({ sub: "u1" })));
  assert.deepEqual(decodeJwtPayload(`h.${payload}.s`), { sub: "u1" });
  assert.equal(decodeJwtPayload("nodots"), undefined);
  assert.equal(decodeJwtPayload("a.!!!.c"), undefined);
});

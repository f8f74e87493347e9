/**
 * The webhook signature: `X-Kleis-Signature: t=<unix seconds>,v1=<hex>`,
 * where hex is HMAC-SHA256 keyed with the signing secret over
 * `<t>.<body>` (the exact bytes of the body). The timestamp is signed with
 * the body, so a receiver that refuses old timestamps refuses replays
 * (README "Alerts" shows how to verify).
 */
const encoder = new TextEncoder();

export const SIGNATURE_HEADER = "X-Kleis-Signature";

export async function signatureHeader(
  secret: string,
  unixSeconds: number,
  body: string,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, encoder.encode(`${unixSeconds}.${body}`)),
  );
  const hex = Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
  return `t=${unixSeconds},v1=${hex}`;
}

/**
 * Cryptographic helpers: sealing secrets at rest (AES-GCM), hashing API keys
 * (SHA-256), constant-time comparison, random ids and secrets, PKCE.
 * Web Crypto, except the synchronous SHA-256 behind constantTimeEqual
 * (node:crypto); nothing here keeps state beyond the caller's CryptoKey.
 */
import { createHash, timingSafeEqual } from "node:crypto";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type RandomBytes = (length: number) => Uint8Array;

export const systemRandom: RandomBytes = (length) => crypto.getRandomValues(new Uint8Array(length));

export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function base64UrlDecode(text: string): Uint8Array {
  const normal = text.replaceAll("-", "+").replaceAll("_", "/");
  const padded = normal + "=".repeat((4 - (normal.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

export function base64Encode(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Uniform base62 string (rejection sampling keeps every character equally likely). */
export function randomBase62(length: number, random: RandomBytes = systemRandom): string {
  let out = "";
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** A random identifier with 128 bits of entropy, URL safe. */
export function randomId(random: RandomBytes = systemRandom): string {
  return base64UrlEncode(random(16));
}

let sequence = 0;

/**
 * A time-ordered id: 12 hex digits of milliseconds, a per-process sequence,
 * then randomness. Sorting ids as strings sorts them by time (and, within one
 * millisecond of one process, by creation), which audit listings rely on.
 */
export function timeOrderedId(nowMs: number, random: RandomBytes = systemRandom): string {
  sequence = (sequence + 1) % 0x1000000;
  return nowMs.toString(16).padStart(12, "0") + sequence.toString(16).padStart(6, "0") +
    base64UrlEncode(random(10));
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Constant-time equality of two secrets: their SHA-256 digests are compared,
 * so neither the content nor the length of either leaks through timing.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

function sha256(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

/** Imports the 32-byte sealing key (KLEIS_ENCRYPTION_KEY, base64). */
export async function importSealingKey(rawKey: Uint8Array): Promise<CryptoKey> {
  if (rawKey.length !== 32) throw new Error("The sealing key must be 32 bytes.");
  return await crypto.subtle.importKey("raw", rawKey as Uint8Array<ArrayBuffer>, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

const SEAL_VERSION = "v1";

/**
 * Seals a JSON-serialisable value with AES-GCM and a fresh 96-bit IV.
 * `context` is bound as additional data so a sealed blob cannot be moved to
 * another record (for example account A's tokens pasted onto account B).
 */
export async function seal(
  key: CryptoKey,
  value: unknown,
  context: string,
  random: RandomBytes = systemRandom,
): Promise<string> {
  const iv = random(12) as Uint8Array<ArrayBuffer>;
  const cipher = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
    key,
    encoder.encode(JSON.stringify(value)),
  );
  return `${SEAL_VERSION}.${base64UrlEncode(iv)}.${base64UrlEncode(new Uint8Array(cipher))}`;
}

/** Opens a sealed blob; throws when the key, context or data do not match. */
export async function unseal<T>(key: CryptoKey, sealed: string, context: string): Promise<T> {
  const [version, ivText, dataText] = sealed.split(".");
  if (version !== SEAL_VERSION || !ivText || !dataText) {
    throw new Error("The sealed value has an unknown format.");
  }
  const plain = await crypto.subtle.decrypt(
    {
      name: "AES-GCM",
      iv: base64UrlDecode(ivText) as Uint8Array<ArrayBuffer>,
      additionalData: encoder.encode(context),
    },
    key,
    base64UrlDecode(dataText) as Uint8Array<ArrayBuffer>,
  );
  return JSON.parse(decoder.decode(plain)) as T;
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** PKCE S256: verifier = base64url(32 random bytes), challenge = base64url(SHA-256(verifier)). */
export async function createPkce(random: RandomBytes = systemRandom): Promise<Pkce> {
  const verifier = base64UrlEncode(random(32));
  return { verifier, challenge: await pkceChallenge(verifier) };
}

export async function pkceChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(verifier));
  return base64UrlEncode(new Uint8Array(digest));
}

/** Decodes a JWT payload without verifying it (identity claims only, never trust decisions). */
export function decodeJwtPayload(token: string): Record<string, unknown> | undefined {
  const part = token.split(".")[1];
  if (!part) return undefined;
  try {
    const value = JSON.parse(decoder.decode(base64UrlDecode(part)));
    return value && typeof value === "object" ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

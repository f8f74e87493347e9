/**
 * API key secrets: `kleis_` + 40 base62 characters (~238 bits), stored only
 * as SHA-256 hex. Hashing uses node:crypto's synchronous digest because it
 * runs on every proxied request and an async Web Crypto call costs more than
 * the hash itself.
 */
import { createHash } from "node:crypto";
import { randomBase62, type RandomBytes } from "../crypto.ts";

export const KEY_SECRET_PREFIX = "kleis_";
export const KEY_SECRET_RANDOM_LENGTH = 40;
/** Characters of the secret kept for display. */
export const KEY_DISPLAY_PREFIX_LENGTH = 12;

export function newKeySecret(random: RandomBytes): string {
  return KEY_SECRET_PREFIX + randomBase62(KEY_SECRET_RANDOM_LENGTH, random);
}

export function hashKeySecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function displayPrefix(secret: string): string {
  return secret.slice(0, KEY_DISPLAY_PREFIX_LENGTH);
}

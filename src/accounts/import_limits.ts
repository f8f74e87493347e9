/**
 * Size limits on imported credentials, checked before anything is called or
 * stored. Tokens are sealed into one KV value (at most 64 KiB) and the
 * provider identity becomes part of a KV key (at most 2 KiB): an over-long
 * field would otherwise fail deep in KV as a 500. Real values are far
 * smaller: OAuth access and ID tokens are a few KiB at most, account ids and
 * GitHub logins tens of characters, host names at most 253.
 */
import { badRequest } from "../errors.ts";
import type { ParsedCredentials } from "../providers/account_types.ts";

export const MAX_TOKEN_LENGTH = 8_192;
export const MAX_EXTERNAL_ID_BYTES = 200;

const FIELD_LIMITS: [keyof ParsedCredentials, number][] = [
  ["accessToken", MAX_TOKEN_LENGTH],
  ["refreshToken", MAX_TOKEN_LENGTH],
  ["idToken", MAX_TOKEN_LENGTH],
  ["accountId", MAX_EXTERNAL_ID_BYTES],
  ["user", 100],
  ["host", 253],
  ["plan", 100],
];

/** Throws a 400 naming the first field over its limit. */
export function checkCredentialSizes(parsed: ParsedCredentials): void {
  for (const [field, max] of FIELD_LIMITS) {
    const value = parsed[field];
    if (typeof value === "string" && value.length > max) {
      throw badRequest("invalid_credentials", `${field} is longer than ${max} characters.`);
    }
  }
}

/** Throws a 400 when the identity a provider gave is too long to be a KV key part. */
export function checkExternalId(externalId: string): void {
  if (new TextEncoder().encode(externalId).length > MAX_EXTERNAL_ID_BYTES) {
    throw badRequest(
      "invalid_credentials",
      `The account id these credentials carry is longer than ${MAX_EXTERNAL_ID_BYTES} bytes.`,
    );
  }
}

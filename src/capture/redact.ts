/**
 * Redaction of captured requests and answers (docs/api.md#request-capture),
 * applied before anything is stored, in three layers:
 *
 * 1. Headers that carry credentials by name (Authorization, x-api-key,
 *    cookies, proxy credentials, anything named like a token or secret) keep
 *    their name and lose their value.
 * 2. Every exact secret Kleis holds for the request (the client's Kleis key,
 *    the account's upstream token, the admin token) is replaced wherever it
 *    appears, and so is a secret's beginning left at the end of a body cut
 *    short by the size cap.
 * 3. Anything shaped like a credential (the logger's patterns: Kleis keys,
 *    GitHub, Anthropic and OpenAI tokens, JWTs, Copilot tokens, bearer
 *    values), the values of JSON fields named like credentials, and the
 *    user:password part of URLs.
 */
import { redact as redactPatterns } from "../log.ts";

export const REDACTED = "[redacted]";

const SECRET_HEADER_NAMES = new Set([
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "api-key",
  "cookie",
  "set-cookie",
]);
const SECRET_HEADER_PATTERN = /token|secret|password|cookie|credential|auth|api-?key/i;

const SECRET_FIELD_NAMES =
  "access_token|refresh_token|id_token|client_secret|api_key|apiKey|password|secret|token|accessToken|refreshToken";
/** A JSON field named like a credential, and the same inside a JSON string (quotes escaped). */
const SECRET_JSON_FIELD = new RegExp(
  `("(?:${SECRET_FIELD_NAMES})"\\s*:\\s*")((?:[^"\\\\]|\\\\.)*)(")`,
  "g",
);
const SECRET_NESTED_JSON_FIELD = new RegExp(
  `(\\\\"(?:${SECRET_FIELD_NAMES})\\\\"\\s*:\\s*\\\\")((?:[^"\\\\]|\\\\[^"])*)(\\\\")`,
  "g",
);
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:"'<>]+:[^\s/@"'<>]+@/gi;

/** The shortest secret beginning that counts as a leak when a body ends in it. */
const MIN_TAIL = 6;

export class Redactor {
  readonly #secrets: string[];

  /** `secrets`: exact values to remove (short or empty ones are ignored). */
  constructor(secrets: Iterable<string | undefined>) {
    const unique = new Set<string>();
    for (const s of secrets) if (s && s.length >= 8) unique.add(s);
    // Longest first, so a secret containing another is removed whole.
    this.#secrets = [...unique].sort((a, b) => b.length - a.length);
  }

  /** Text with every secret removed; `cut` says the text was truncated at its end. */
  text(input: string, cut = false): string {
    let out = input;
    for (const secret of this.#secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    if (cut) out = this.#tail(out);
    out = redactPatterns(out);
    out = out.replace(SECRET_JSON_FIELD, `$1${REDACTED}$3`);
    out = out.replace(SECRET_NESTED_JSON_FIELD, `$1${REDACTED}$3`);
    return out.replace(URL_USERINFO, `$1${REDACTED}@`);
  }

  /** Header pairs, credentials by name blanked and the other values scanned. */
  headers(headers: Headers | Iterable<[string, string]>): [string, string][] {
    const out: [string, string][] = [];
    for (const [name, value] of headers) {
      const lower = name.toLowerCase();
      const secret = SECRET_HEADER_NAMES.has(lower) || SECRET_HEADER_PATTERN.test(lower);
      out.push([lower, secret ? REDACTED : this.text(value)]);
    }
    return out;
  }

  /** A URL with secrets in its query or user part removed. */
  url(url: string): string {
    return this.text(url).replace(
      /([?&](?:access_token|token|key|api_key|apikey|secret|password|sig|signature)=)[^&#]*/gi,
      `$1${REDACTED}`,
    );
  }

  /** A truncated body may end with a secret's beginning: that beginning goes too. */
  #tail(text: string): string {
    for (const secret of this.#secrets) {
      const head = secret.slice(0, MIN_TAIL);
      let i = text.indexOf(head, Math.max(0, text.length - secret.length + 1));
      while (i !== -1) {
        if (secret.startsWith(text.slice(i))) return text.slice(0, i) + REDACTED;
        i = text.indexOf(head, i + 1);
      }
    }
    return text;
  }
}

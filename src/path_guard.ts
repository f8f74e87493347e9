/**
 * Refuses request paths whose segments no Kleis id, provider, token or asset
 * name can match, before any route turns a segment into a KV key or a file
 * name. Deno KV refuses keys over 2 KiB with an exception, and the file
 * system refuses long names ("File name too long"); both would otherwise
 * surface as a 500. Every id Kleis issues is short ASCII (account ids
 * `acct_` + 20 characters, key ids 22, discovery tokens 32), so a segment
 * longer than MAX_SEGMENT_BYTES, or holding control characters, is answered
 * 404 in the route's error shape. Applied to every route, so routes added
 * later are covered without further work.
 */
import type { MiddlewareHandler } from "hono";
import { KleisError } from "./errors.ts";

/** Bytes of UTF-8 per decoded path segment; far below KV's 2 KiB key limit and NAME_MAX (255). */
export const MAX_SEGMENT_BYTES = 200;

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const encoder = new TextEncoder();

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // Not valid percent-encoding: the router passes such a segment on as it is.
    return segment;
  }
}

/** Why a segment can never name anything in Kleis, or undefined when it might. */
export function segmentProblem(raw: string): string | undefined {
  if (raw.length > MAX_SEGMENT_BYTES * 3) return "too long";
  const segment = decoded(raw);
  if (encoder.encode(segment).length > MAX_SEGMENT_BYTES) return "too long";
  if (CONTROL.test(segment)) return "holds control characters";
  return undefined;
}

/**
 * 404 not_found, as for any id that names nothing (the registry's contract
 * for unknown discovery tokens included); the segment itself is not echoed.
 */
export function invalidPathSegment(problem: string): KleisError {
  return new KleisError(
    404,
    "not_found",
    `Nothing in Kleis has this name: a path segment ${problem}, and ids, tokens and names are at most ${MAX_SEGMENT_BYTES} bytes of printable text.`,
  );
}

/** Middleware: checks every segment of the raw request path. */
export function pathGuard(): MiddlewareHandler {
  return async (c, next) => {
    const url = c.req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const end = url.search(/[?#]/);
    const path = start < 0 ? "/" : url.slice(start, end < 0 ? undefined : end);
    for (const segment of path.split("/")) {
      const problem = segmentProblem(segment);
      if (problem) throw invalidPathSegment(problem);
    }
    await next();
  };
}

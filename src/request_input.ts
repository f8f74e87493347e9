/**
 * Reading and validating request input, for every route: a JSON body
 * (400 invalid_json when it is not JSON) and a zod schema check (400
 * invalid_request naming the first bad field, in the kleis error shape).
 * Nothing is stored before validation.
 */
import type { z } from "zod";
import { badRequest } from "./errors.ts";

/** Parses with a schema or throws a 400 invalid_request naming the first bad field. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join(".") ?? "";
  if (issue?.code === "unrecognized_keys") {
    const names = issue.keys.map((k) => `"${path ? `${path}.` : ""}${k}"`).join(", ");
    throw badRequest("invalid_request", `Unknown field ${names}.`);
  }
  const field = path ? `"${path}"` : "request body";
  throw badRequest("invalid_request", `Invalid ${field}: ${issue?.message ?? "not valid"}.`);
}

/** Reads a JSON object body; an empty body counts as {} for routes whose fields are all optional. */
export async function readJsonBody(req: Request, emptyIsObject = false): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === "") {
    if (emptyIsObject) return {};
    throw badRequest("invalid_json", "The request body must be a JSON object.");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("invalid_json", "The request body is not valid JSON.");
  }
}

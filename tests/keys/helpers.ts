/** Helpers for key and auth tests: an app on test deps and admin calls through app.request. */
import { createApp } from "../../src/app.ts";
import type { Deps } from "../../src/deps.ts";

export type App = ReturnType<typeof createApp>;

export function adminHeaders(deps: Deps, extra: Record<string, string> = {}) {
  return {
    authorization: `Bearer ${deps.config.adminToken}`,
    "content-type": "application/json",
    ...extra,
  };
}

/** A request from a given client address (what Deno.serve passes as the connection info). */
export function fromAddress(address: string) {
  return { remoteAddr: { hostname: address, port: 40000, transport: "tcp" } };
}

export async function adminCall(
  app: App,
  deps: Deps,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await app.request(path, {
    method,
    headers: adminHeaders(deps),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }, fromAddress("10.0.0.1"));
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {}, headers: res.headers };
}

export interface CreatedKeyJson {
  key: Record<string, unknown> & { id: string };
  secret: string;
}

export async function createKey(app: App, deps: Deps, body: unknown = { label: "test" }) {
  const res = await adminCall(app, deps, "POST", "/admin/keys", body);
  if (res.status !== 201) {
    throw new Error(`create failed: ${res.status} ${JSON.stringify(res.json)}`);
  }
  return res.json as unknown as CreatedKeyJson;
}

/** GET /v1/models with a key (the cheapest authenticated route). */
export async function callWithKey(
  app: App,
  secret: string | undefined,
  options: { address?: string; header?: "bearer" | "x-api-key"; path?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (secret !== undefined) {
    if (options.header === "x-api-key") headers["x-api-key"] = secret;
    else headers.authorization = `Bearer ${secret}`;
  }
  return await app.request(
    options.path ?? "/v1/models",
    { headers },
    fromAddress(options.address ?? "192.0.2.1"),
  );
}

/**
 * The setup both end-to-end tests share: the backend fakes, a real Kleis
 * process pointed at them, one account per provider imported through the
 * admin API, and one API key created there.
 */
import assert from "node:assert/strict";
import { type AllFakes, startAllFakes } from "../fakes/mod.ts";
import { type KleisProcess, startKleis } from "./kleis_process.ts";

export interface E2eSetup {
  fakes: AllFakes;
  kleis: KleisProcess;
  /** The created key's secret and discovery URL. */
  secret: string;
  discoveryUrl: string;
  /** Stops Kleis, then the fakes. */
  close(): Promise<void>;
}

/** One call of the admin API: its status and the answer's JSON. */
export async function adminRequest(
  kleis: { url: string; adminToken: string },
  method: string,
  path: string,
  body?: unknown,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${kleis.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${kleis.adminToken}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

/** POSTs to the admin API and asserts a 2xx; the answer's JSON. */
export async function adminPost(
  kleis: { url: string; adminToken: string },
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const { status, json } = await adminRequest(kleis, "POST", path, body);
  assert.ok(
    status >= 200 && status < 300,
    `POST /admin${path} answered ${status}: ${JSON.stringify(json)}`,
  );
  return json;
}

/** Calls the admin API (`path` from the root, "/admin/..."); the status and the answer's JSON. */
export async function adminFetch(
  base: string,
  token: string,
  path: string,
  init: RequestInit = {},
) {
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  });
  return { status: res.status, body: await res.json() };
}

/** Imports a Claude account with tokens the fakes issued; the tokens, to look for leaks. */
export async function importClaude(
  fakes: AllFakes,
  kleis: { url: string; adminToken: string },
): Promise<{ access_token: string; refresh_token: string }> {
  const claude = fakes.world.issueClaudeTokens();
  await adminPost(kleis, "/accounts/claude/import", {
    accessToken: claude.access_token,
    refreshToken: claude.refresh_token,
    expiresAt: fakes.world.now() + claude.expires_in * 1000,
  });
  return claude;
}

/** Imports one account per provider, with tokens the fakes issued, through the admin API. */
export async function importOneOfEach(
  fakes: AllFakes,
  kleis: { url: string; adminToken: string },
): Promise<void> {
  const codex = fakes.world.issueCodexTokens();
  await adminPost(kleis, "/accounts/codex/import", {
    accessToken: codex.access_token,
    refreshToken: codex.refresh_token,
  });
  await importClaude(fakes, kleis);
  await adminPost(kleis, "/accounts/copilot/import", {
    accessToken: fakes.world.issueCopilotToken(),
  });
}

/**
 * Starts everything and creates the key `keyLabel`. When a setup step fails,
 * Kleis's output is printed and everything started is stopped.
 */
export async function startE2e(keyLabel: string): Promise<E2eSetup> {
  const fakes = await startAllFakes();
  const kleis = await startKleis({ env: fakes.env });
  const close = async () => {
    await kleis.stop();
    await fakes.close();
  };
  try {
    await importOneOfEach(fakes, kleis);
    const created = await adminPost(kleis, "/keys", { label: keyLabel });
    const secret = created.secret as string;
    const discoveryUrl = (created.key as { discoveryUrl: string }).discoveryUrl;
    return { fakes, kleis, secret, discoveryUrl, close };
  } catch (error) {
    console.error(kleis.output().slice(-4000));
    await close();
    throw error;
  }
}

/** Fake of `https://platform.claude.com`: the Claude OAuth token endpoint. */
import { TokenEndpointFake } from "./refresh_gate.ts";
import { json, jsonObject, type LazySignal, type RecordedRequest, str } from "./server.ts";
import { type ClaudeIdentity, type FakeWorld, randomId, s256 } from "./world.ts";

export const CLAUDE_CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e";
export const CLAUDE_REDIRECT_URI = "https://platform.claude.com/oauth/code/callback";
export const CLAUDE_SCOPE =
  "org:create_api_key user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload";

export interface ClaudePlatformOptions {
  /** Lifetime of issued access tokens (s); default 28800. */
  accessTtlSec?: number;
}

interface PendingCode {
  challenge: string;
  state: string;
  identity: Partial<ClaudeIdentity>;
  expiresAt: number;
}

function grantError(description: string, error = "invalid_grant", status = 400): Response {
  return json({ error, error_description: description }, status);
}

export class FakeClaudePlatform extends TokenEndpointFake {
  accessTtlSec: number;
  readonly #codes = new Map<string, PendingCode>();

  constructor(readonly world: FakeWorld, opts: ClaudePlatformOptions = {}) {
    super();
    this.accessTtlSec = opts.accessTtlSec ?? 28800;
  }

  /** Simulates the user approving on claude.ai; returns the code shown as `code#state`. */
  authorize(opts: {
    codeChallenge: string;
    state: string;
    identity?: Partial<ClaudeIdentity>;
  }): string {
    const code = randomId(24);
    this.#codes.set(code, {
      challenge: opts.codeChallenge,
      state: opts.state,
      identity: opts.identity ?? {},
      expiresAt: this.world.now() + 600_000,
    });
    return code;
  }

  async start(): Promise<this> {
    await this.listen((req, signal) => this.#handle(req, signal));
    return this;
  }

  async #handle(req: RecordedRequest, signal: LazySignal): Promise<Response> {
    if (req.method !== "POST" || req.path !== "/v1/oauth/token") {
      return json({ type: "error", error: { type: "not_found_error", message: "Not found" } }, 404);
    }
    if (!/^claude-cli\//.test(req.headers["user-agent"] ?? "")) {
      // What the real endpoint does with a generic user agent: 200 with an error body.
      return json({
        type: "error",
        error: { type: "rate_limit_error", message: "Rate limited. Please try again later." },
      });
    }
    const body = jsonObject(req);
    if (!(req.headers["content-type"] ?? "").startsWith("application/json") || !body) {
      return grantError("Request body must be JSON.", "invalid_request");
    }
    if (body["client_id"] !== CLAUDE_CLIENT_ID) {
      return grantError("Unknown client_id.", "invalid_client", 401);
    }
    const grant = body["grant_type"];
    if (grant === "authorization_code") return await this.#exchange(body);
    if (grant !== "refresh_token") {
      return grantError(`Unsupported grant_type ${String(grant)}.`, "unsupported_grant_type");
    }
    const gate = await this.gateRefresh(signal);
    if (gate === "aborted") return new Response(null, { status: 499 });
    if (gate) return gate;
    const used = this.world.claude.useRefresh(str(body["refresh_token"]) ?? "");
    if (!used.ok) {
      return grantError(
        used.reason === "reused"
          ? "Refresh token has already been used."
          : "Refresh token not found or invalid.",
      );
    }
    return this.#issue(used.identity);
  }

  async #exchange(body: Record<string, unknown>): Promise<Response> {
    const code = str(body["code"]) ?? "";
    const pending = this.#codes.get(code);
    if (!pending || pending.expiresAt <= this.world.now()) {
      return grantError("Invalid 'code' in request.");
    }
    this.#codes.delete(code);
    if (body["state"] !== pending.state) return grantError("Invalid 'state' in request.");
    if (body["redirect_uri"] !== CLAUDE_REDIRECT_URI) {
      return grantError("Invalid 'redirect_uri' in request.");
    }
    const verifier = str(body["code_verifier"]) ?? "";
    if (!verifier || await s256(verifier) !== pending.challenge) {
      return grantError("Invalid 'code_verifier' in request.");
    }
    return this.#issue(pending.identity);
  }

  #issue(identity: Partial<ClaudeIdentity>): Response {
    const tokens = this.world.issueClaudeTokens({ ...identity, expiresInSec: this.accessTtlSec });
    const who = this.world.claude.access.get(tokens.access_token)?.identity;
    return json({
      token_type: "Bearer",
      ...tokens,
      scope: CLAUDE_SCOPE,
      account: { uuid: who?.uuid, email_address: who?.email },
      organization: { uuid: who?.orgUuid, name: who?.orgName },
    });
  }
}

export async function startFakeClaudePlatform(
  world: FakeWorld,
  opts: ClaudePlatformOptions = {},
): Promise<FakeClaudePlatform> {
  return await new FakeClaudePlatform(world, opts).start();
}

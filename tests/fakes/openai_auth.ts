/** Fake of `https://auth.openai.com`: PKCE code exchange, refresh, device flow. */
import { TokenEndpointFake } from "./refresh_gate.ts";
import {
  formBody,
  json,
  jsonObject,
  type LazySignal,
  type RecordedRequest,
  str,
} from "./server.ts";
import { type CodexIdentity, type FakeWorld, randomId, s256 } from "./world.ts";

export const OPENAI_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
export const OPENAI_DEVICE_REDIRECT = "https://auth.openai.com/deviceauth/callback";

export interface OpenAIAuthOptions {
  /** Lifetime of issued access tokens (s); default 864000 (10 days). */
  accessTtlSec?: number;
  /** The `interval` string of the device flow; default "5". */
  deviceInterval?: string;
}

interface PendingCode {
  challenge: string;
  redirectUri: string;
  identity: Partial<CodexIdentity>;
  expiresAt: number;
}

interface DeviceFlow {
  deviceAuthId: string;
  userCode: string;
  approved?: { code: string; verifier: string; challenge: string };
  expired: boolean;
}

function oauthError(code: string, message: string, status = 400): Response {
  return json({ error: { message, type: "invalid_request_error", param: null, code } }, status);
}

export class FakeOpenAIAuth extends TokenEndpointFake {
  accessTtlSec: number;
  readonly devices = new Map<string, DeviceFlow>();
  readonly #codes = new Map<string, PendingCode>();
  readonly #deviceInterval: string;

  constructor(readonly world: FakeWorld, opts: OpenAIAuthOptions = {}) {
    super();
    this.accessTtlSec = opts.accessTtlSec ?? 864000;
    this.#deviceInterval = opts.deviceInterval ?? "5";
  }

  /** Simulates the user approving in the browser; returns the code of the callback URL. */
  authorize(opts: {
    codeChallenge: string;
    redirectUri?: string;
    state?: string;
    identity?: Partial<CodexIdentity>;
  }): string {
    const code = `ac_${randomId(20)}`;
    this.#codes.set(code, {
      challenge: opts.codeChallenge,
      redirectUri: opts.redirectUri ?? "http://localhost:1455/auth/callback",
      identity: opts.identity ?? {},
      expiresAt: this.world.now() + 600_000,
    });
    return code;
  }

  /** Approves a pending device flow by its user code. */
  async approveDevice(userCode: string, identity: Partial<CodexIdentity> = {}): Promise<void> {
    const flow = [...this.devices.values()].find((f) => f.userCode === userCode);
    if (!flow) throw new Error(`No device flow with user code ${userCode}.`);
    const verifier = randomId(32);
    const challenge = await s256(verifier);
    const code = this.authorize({
      codeChallenge: challenge,
      redirectUri: OPENAI_DEVICE_REDIRECT,
      identity,
    });
    flow.approved = { code, verifier, challenge };
  }

  expireDevice(userCode: string): void {
    for (const f of this.devices.values()) if (f.userCode === userCode) f.expired = true;
  }

  /** The user code of the newest device flow. */
  get lastUserCode(): string | undefined {
    return [...this.devices.values()].at(-1)?.userCode;
  }

  protected handle = async (req: RecordedRequest, signal: LazySignal): Promise<Response> => {
    const route = `${req.method} ${req.path}`;
    if (route === "POST /oauth/token") return await this.#token(req, signal);
    if (route === "POST /api/accounts/deviceauth/usercode") return this.#userCode(req);
    if (route === "POST /api/accounts/deviceauth/token") return this.#deviceToken(req);
    return json({ error: { message: "Not found", code: "not_found" } }, 404);
  };

  async start(): Promise<this> {
    await this.listen(this.handle);
    return this;
  }

  #userCode(req: RecordedRequest): Response {
    const body = jsonObject(req);
    if (!body || body["client_id"] !== OPENAI_CLIENT_ID) {
      return oauthError("invalid_client", "Unknown or missing client_id.");
    }
    const flow: DeviceFlow = {
      deviceAuthId: `deviceauth_${randomId(12)}`,
      userCode: `${randomId(2).toUpperCase()}-${randomId(3).toUpperCase()}`,
      expired: false,
    };
    this.devices.set(flow.deviceAuthId, flow);
    return json({
      device_auth_id: flow.deviceAuthId,
      user_code: flow.userCode,
      interval: this.#deviceInterval,
    });
  }

  #deviceToken(req: RecordedRequest): Response {
    const body = jsonObject(req);
    const flow = this.devices.get(str(body?.["device_auth_id"]) ?? "");
    if (!flow || flow.userCode !== body?.["user_code"] || flow.expired) {
      return json({ error: { message: "Device authorization not found", code: "not_found" } }, 404);
    }
    if (!flow.approved) {
      return json({
        error: { message: "Device authorization is pending", code: "deviceauth_pending" },
      }, 403);
    }
    return json({
      authorization_code: flow.approved.code,
      code_verifier: flow.approved.verifier,
      code_challenge: flow.approved.challenge,
    });
  }

  async #token(req: RecordedRequest, signal: LazySignal): Promise<Response> {
    const type = req.headers["content-type"] ?? "";
    if (!type.startsWith("application/x-www-form-urlencoded")) {
      return json({
        error: "invalid_request",
        error_description: "Content-Type must be application/x-www-form-urlencoded.",
      }, 400);
    }
    const form = formBody(req);
    if (form.get("client_id") !== OPENAI_CLIENT_ID) {
      return oauthError("invalid_client", "Unknown or missing client_id.", 401);
    }
    const grant = form.get("grant_type");
    if (grant === "authorization_code") return await this.#exchange(form);
    if (grant === "refresh_token") {
      const gate = await this.gateRefresh(signal);
      if (gate === "aborted") return new Response(null, { status: 499 });
      if (gate) return gate;
      const used = this.world.codex.useRefresh(form.get("refresh_token") ?? "");
      if (!used.ok) {
        if (used.reason === "reused") {
          return oauthError(
            "refresh_token_reused",
            "Your refresh token has already been used to generate a new access token. Please try signing in again.",
          );
        }
        if (used.reason === "revoked") {
          return oauthError(
            "refresh_token_invalidated",
            "Your refresh token has been invalidated. Please try signing in again.",
          );
        }
        return oauthError("invalid_grant", "Refresh token is invalid or unknown.");
      }
      return this.#issue(used.identity);
    }
    return oauthError("unsupported_grant_type", `Unsupported grant_type ${grant}.`);
  }

  async #exchange(form: URLSearchParams): Promise<Response> {
    const code = form.get("code") ?? "";
    const pending = this.#codes.get(code);
    if (!pending || pending.expiresAt <= this.world.now()) {
      return oauthError("invalid_grant", "Authorization code is invalid or expired.");
    }
    this.#codes.delete(code);
    if (form.get("redirect_uri") !== pending.redirectUri) {
      return oauthError("invalid_grant", "redirect_uri does not match the authorization request.");
    }
    const verifier = form.get("code_verifier") ?? "";
    if (!verifier || await s256(verifier) !== pending.challenge) {
      return oauthError("invalid_grant", "code_verifier does not match the code_challenge.");
    }
    return this.#issue(pending.identity);
  }

  #issue(identity: Partial<CodexIdentity>): Response {
    const tokens = this.world.issueCodexTokens({ ...identity, expiresInSec: this.accessTtlSec });
    return json({ ...tokens, token_type: "Bearer", scope: "openid profile email offline_access" });
  }
}

export async function startFakeOpenAIAuth(
  world: FakeWorld,
  opts: OpenAIAuthOptions = {},
): Promise<FakeOpenAIAuth> {
  return await new FakeOpenAIAuth(world, opts).start();
}

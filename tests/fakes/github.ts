/** Fake of `https://github.com` (or an Enterprise host): the OAuth device flow. */
import { FakeServer, formBody, json, jsonObject, type RecordedRequest } from "./server.ts";
import { type FakeWorld, type GithubIdentity, randomId } from "./world.ts";

export const GITHUB_CLIENT_ID = "Ov23li8tweQw6odWQebz";
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

export interface GithubOptions {
  /** Poll interval (s) handed out and enforced; 0 disables enforcement. Default 5. */
  interval?: number;
  /** Lifetime of a device code (s); default 900. */
  expiresIn?: number;
}

export interface DeviceFlowState {
  deviceCode: string;
  userCode: string;
  scope: string;
  interval: number;
  expiresAt: number;
  lastPollAt: number | null;
  status: "pending" | "approved" | "denied" | "expired" | "consumed";
  identity?: GithubIdentity;
  slowDownNext: boolean;
}

export class FakeGithub extends FakeServer {
  readonly flows = new Map<string, DeviceFlowState>();
  interval: number;
  expiresIn: number;

  constructor(readonly world: FakeWorld, opts: GithubOptions = {}) {
    super();
    this.interval = opts.interval ?? 5;
    this.expiresIn = opts.expiresIn ?? 900;
  }

  async start(): Promise<this> {
    await this.listen((req) => this.#handle(req));
    return this;
  }

  #flow(userCode: string): DeviceFlowState {
    const flow = [...this.flows.values()].find((f) => f.userCode === userCode);
    if (!flow) throw new Error(`No device flow with user code ${userCode}.`);
    return flow;
  }

  /** The user types the code and authorises; the next poll gets a `gho_` token. */
  approve(userCode: string, identity: Partial<GithubIdentity> = {}): GithubIdentity {
    const flow = this.#flow(userCode);
    flow.status = "approved";
    flow.identity = this.world.githubIdentity(identity);
    return flow.identity;
  }

  deny(userCode: string): void {
    this.#flow(userCode).status = "denied";
  }

  expire(userCode: string): void {
    this.#flow(userCode).status = "expired";
  }

  slowDownNext(userCode: string): void {
    this.#flow(userCode).slowDownNext = true;
  }

  get lastUserCode(): string | undefined {
    return [...this.flows.values()].at(-1)?.userCode;
  }

  #params(req: RecordedRequest): Record<string, string> {
    const body = jsonObject(req);
    if (body) {
      return Object.fromEntries(
        Object.entries(body).filter((e): e is [string, string] => typeof e[1] === "string"),
      );
    }
    return Object.fromEntries(formBody(req));
  }

  #answer(req: RecordedRequest, body: Record<string, unknown>): Response {
    if ((req.headers["accept"] ?? "").includes("application/json")) return json(body);
    // Without `Accept: application/json` GitHub answers form-encoded, like here.
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(body)) form.set(k, String(v));
    return new Response(form.toString(), {
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    });
  }

  #handle(req: RecordedRequest): Response {
    const route = `${req.method} ${req.path}`;
    if (route === "POST /login/device/code") return this.#deviceCode(req);
    if (route === "POST /login/oauth/access_token") return this.#poll(req);
    return json({ error: "Not Found" }, 404);
  }

  #deviceCode(req: RecordedRequest): Response {
    const p = this.#params(req);
    if (p["client_id"] !== GITHUB_CLIENT_ID) {
      return this.#answer(req, {
        error: "incorrect_client_credentials",
        error_description: "The client_id is not valid.",
      });
    }
    const flow: DeviceFlowState = {
      deviceCode: randomId(20),
      userCode: `${randomId(2).toUpperCase()}-${randomId(2).toUpperCase()}`,
      scope: p["scope"] ?? "",
      interval: this.interval,
      expiresAt: this.world.now() + this.expiresIn * 1000,
      lastPollAt: null,
      status: "pending",
      slowDownNext: false,
    };
    this.flows.set(flow.deviceCode, flow);
    return this.#answer(req, {
      device_code: flow.deviceCode,
      user_code: flow.userCode,
      verification_uri: `${this.url}/login/device`,
      expires_in: this.expiresIn,
      interval: flow.interval,
    });
  }

  #poll(req: RecordedRequest): Response {
    const p = this.#params(req);
    const fail = (error: string, description: string, extra: Record<string, unknown> = {}) =>
      this.#answer(req, { error, error_description: description, ...extra });
    if (p["client_id"] !== GITHUB_CLIENT_ID) {
      return fail("incorrect_client_credentials", "The client_id is not valid.");
    }
    if (p["grant_type"] !== DEVICE_GRANT) {
      return fail("unsupported_grant_type", "The grant type is not supported.");
    }
    const flow = this.flows.get(p["device_code"] ?? "");
    if (!flow || flow.status === "consumed") {
      return fail("incorrect_device_code", "The device_code provided is not valid.");
    }
    const now = this.world.now();
    if (flow.status === "expired" || now >= flow.expiresAt) {
      flow.status = "expired";
      return fail("expired_token", "The device_code has expired.");
    }
    const tooSoon = this.interval > 0 && flow.lastPollAt !== null &&
      now - flow.lastPollAt < flow.interval * 1000;
    flow.lastPollAt = now;
    if (flow.slowDownNext || tooSoon) {
      flow.slowDownNext = false;
      flow.interval += 5;
      return fail("slow_down", "Too many requests have been made in the same timeframe.", {
        interval: flow.interval,
      });
    }
    if (flow.status === "denied") {
      return fail("access_denied", "The authorization request was denied.");
    }
    if (flow.status === "pending" || !flow.identity) {
      return fail("authorization_pending", "The authorization request is still pending.");
    }
    flow.status = "consumed";
    const token = this.world.issueCopilotToken({ ...flow.identity, kind: "gho" });
    return this.#answer(req, { access_token: token, token_type: "bearer", scope: flow.scope });
  }
}

export async function startFakeGithub(
  world: FakeWorld,
  opts: GithubOptions = {},
): Promise<FakeGithub> {
  return await new FakeGithub(world, opts).start();
}

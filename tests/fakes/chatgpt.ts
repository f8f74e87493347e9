/** Fake of `https://chatgpt.com`: the Codex responses endpoint and the usage view. */
import { ProxyBackendFake } from "./backend.ts";
import { responsesEvents, responsesReply } from "./responses_reply.ts";
import { bearer, jsonObject, type RecordedRequest } from "./server.ts";
import { checkResponsesBody } from "./strict_shapes.ts";
import type { CodexIdentity, FakeWorld } from "./world.ts";

export const CODEX_PATH = "/backend-api/codex/responses";
export const CODEX_USAGE_PATH = "/backend-api/wham/usage";
const DROPPED_FIELDS = ["max_output_tokens", "max_completion_tokens", "temperature", "top_p"];

export interface CodexQuota {
  primaryUsedPercent: number;
  secondaryUsedPercent: number;
  /** unix s; default: now + 2 h / now + 4 days. */
  primaryResetAt?: number;
  secondaryResetAt?: number;
  limitReached: boolean;
}

/** Model ids a ChatGPT subscription accepts: gpt-5.x (and codex variants), no `-pro`. */
export function codexModelSupported(model: string): boolean {
  return /^gpt-5(\.\d+)?(-[a-z0-9]+)*$/.test(model) && !model.endsWith("-pro");
}

export class FakeChatgpt extends ProxyBackendFake {
  protected readonly proxiedPaths = [CODEX_PATH] as const;
  override reply = "Hello from fake Codex";
  /** When true the stream is sent without a content-type header, as the backend sometimes does. */
  omitContentType = false;
  /** When true the stream carries `event:` lines too (the backend's parsers must not need them). */
  eventLines = false;
  quota: CodexQuota = { primaryUsedPercent: 12, secondaryUsedPercent: 30, limitReached: false };

  constructor(readonly world: FakeWorld) {
    super();
  }

  setOmitContentType(omit: boolean): void {
    this.omitContentType = omit;
  }

  /** Quota of one access token (by bearer), over `quota`: accounts with different headroom. */
  readonly quotaByToken = new Map<string, Partial<CodexQuota>>();

  setQuota(quota: Partial<CodexQuota>): void {
    this.quota = { ...this.quota, ...quota };
  }

  async init(): Promise<this> {
    await this.start();
    return this;
  }

  #windows(req: RecordedRequest) {
    const quota = { ...this.quota, ...this.quotaByToken.get(bearer(req) ?? "") };
    const nowSec = Math.floor(this.world.now() / 1000);
    const primaryReset = quota.primaryResetAt ?? nowSec + 7200;
    const secondaryReset = quota.secondaryResetAt ?? nowSec + 4 * 86400;
    return {
      nowSec,
      primary: {
        used_percent: quota.primaryUsedPercent,
        limit_window_seconds: 18000,
        reset_after_seconds: Math.max(0, primaryReset - nowSec),
        reset_at: primaryReset,
      },
      secondary: {
        used_percent: quota.secondaryUsedPercent,
        limit_window_seconds: 604800,
        reset_after_seconds: Math.max(0, secondaryReset - nowSec),
        reset_at: secondaryReset,
      },
    };
  }

  protected override commonHeaders(req: RecordedRequest): Record<string, string> {
    const w = this.#windows(req);
    return {
      "x-codex-primary-used-percent": String(w.primary.used_percent),
      "x-codex-primary-window-minutes": "300",
      "x-codex-primary-reset-at": String(w.primary.reset_at),
      "x-codex-primary-reset-after-seconds": String(w.primary.reset_after_seconds),
      "x-codex-secondary-used-percent": String(w.secondary.used_percent),
      "x-codex-secondary-window-minutes": "10080",
      "x-codex-secondary-reset-at": String(w.secondary.reset_at),
      "x-codex-secondary-reset-after-seconds": String(w.secondary.reset_after_seconds),
    };
  }

  #auth(req: RecordedRequest): Response | CodexIdentity {
    const check = this.world.codex.checkAccess(bearer(req) ?? "");
    if (!check.ok) {
      const expired = check.reason === "expired";
      return this.json({
        error: {
          message: expired
            ? "Provided authentication token is expired. Please try signing in again."
            : "Could not parse your authentication token. Please try signing in again.",
          type: "invalid_request_error",
          code: expired ? "token_expired" : "invalid_token",
        },
      }, 401);
    }
    const accountId = req.headers["chatgpt-account-id"];
    if (accountId !== check.identity.accountId) {
      return detail(
        accountId === undefined
          ? "Missing ChatGPT-Account-Id header."
          : "ChatGPT-Account-Id does not match the authenticated account.",
      );
    }
    return check.identity;
  }

  protected handle(req: RecordedRequest): Response {
    const route = `${req.method} ${req.path}`;
    if (route !== `POST ${CODEX_PATH}` && route !== `GET ${CODEX_USAGE_PATH}`) {
      return this.json({ detail: "Not Found" }, 404);
    }
    const who = this.#auth(req);
    if (who instanceof Response) return who;
    if (req.method === "GET") {
      const w = this.#windows(req);
      return this.json({
        plan_type: who.plan,
        rate_limit: {
          allowed: !this.quota.limitReached,
          limit_reached: this.quota.limitReached,
          primary_window: w.primary,
          secondary_window: w.secondary,
        },
        credits: { has_credits: false, unlimited: false, balance: "0" },
      });
    }
    const body = jsonObject(req);
    if (!body) return detail("Request body must be a JSON object.");
    if (body["store"] !== false) return detail("Store must be set to false");
    if (body["stream"] !== true) return detail("Stream must be set to true");
    const instructions = body["instructions"];
    if (typeof instructions !== "string" || instructions.trim() === "") {
      return detail("Instructions are required");
    }
    const dropped = DROPPED_FIELDS.find((f) => f in body);
    if (dropped) return detail(`Unsupported parameter: ${dropped}`);
    const model = body["model"];
    if (typeof model !== "string" || !codexModelSupported(model)) {
      return detail(
        `The '${String(model)}' model is not supported when using Codex with a ChatGPT account.`,
      );
    }
    if (!Array.isArray(body["input"])) return detail("Input must be a list");
    const shapeError = checkResponsesBody(body);
    if (shapeError) return detail(shapeError);
    const reply = responsesReply(
      body,
      req.bodyText,
      this.reply,
      this.usage,
      this.world.now(),
      this.toolCall,
    );
    return this.sse(responsesEvents(reply, this.eventLines), {}, this.omitContentType);
  }
}

function detail(message: string): Response {
  return Response.json({ detail: message }, { status: 400 });
}

export async function startFakeChatgpt(world: FakeWorld): Promise<FakeChatgpt> {
  return await new FakeChatgpt(world).init();
}

/** Fake of `https://api.anthropic.com` as a Claude subscription (OAuth) token sees it. */
import { estimateTokens, ProxyBackendFake } from "./backend.ts";
import {
  anthropicError,
  messageEvents,
  messageJson,
  messagesReply,
  THINKING_SIGNATURE,
} from "./messages_reply.ts";
import { bearer, jsonObject, type RecordedRequest } from "./server.ts";
import type { ClaudeIdentity, FakeWorld } from "./world.ts";

export const CLAUDE_IDENTITY_PROMPT = "You are Claude Code, Anthropic's official CLI for Claude.";
export const POLICY_MESSAGE =
  "This credential is only authorized for use with Claude Code and cannot be used for other API requests.";
export const CLASSIFIER_MESSAGE =
  "You're out of extra usage. Add more at claude.ai/settings/usage and keep going.";
/** Markers of third-party agents that the server-side classifier reacts to. */
export const CLASSIFIER_MARKERS = [
  "https://github.com/anomalyco/opencode",
  "Here is some useful information about the environment you are running in:",
];
const TOOL_NAME = /^mcp_[A-Z]/;

export interface RateLimitState {
  fiveHourUtilization: number;
  /** unix s; default: an hour from now. */
  fiveHourReset?: number;
  sevenDayUtilization: number;
  sevenDayReset?: number;
  status: "allowed" | "allowed_warning" | "rejected";
}

interface UsageWindow {
  utilization: number;
  resets_at: string | null;
}

export interface UsageReport {
  five_hour: UsageWindow | null;
  seven_day: UsageWindow | null;
  seven_day_opus: UsageWindow | null;
  seven_day_sonnet: UsageWindow | null;
}

export class FakeAnthropic extends ProxyBackendFake {
  protected readonly proxiedPaths = ["/v1/messages", "/v1/messages/count_tokens"] as const;
  override reply = "Hello from fake Claude";
  rateLimit: RateLimitState = {
    fiveHourUtilization: 0.25,
    sevenDayUtilization: 0.4,
    status: "allowed",
  };
  /** Text of a thinking block in replies to requests that enable thinking; unset: none. */
  thinking: string | undefined;
  /** Answer of `/api/oauth/usage`; unset → derived from `rateLimit`. */
  usageReport: UsageReport | undefined;

  constructor(readonly world: FakeWorld) {
    super();
  }

  setRateLimit(state: Partial<RateLimitState>): void {
    this.rateLimit = { ...this.rateLimit, ...state };
  }

  async init(): Promise<this> {
    await this.start();
    return this;
  }

  #resets(): { fiveHour: number; sevenDay: number } {
    const nowSec = Math.floor(this.world.now() / 1000);
    return {
      fiveHour: this.rateLimit.fiveHourReset ?? nowSec + 3600,
      sevenDay: this.rateLimit.sevenDayReset ?? nowSec + 3 * 86400,
    };
  }

  protected override commonHeaders(_req: RecordedRequest): Record<string, string> {
    const r = this.#resets();
    return {
      "anthropic-ratelimit-unified-status": this.rateLimit.status,
      "anthropic-ratelimit-unified-5h-utilization": String(this.rateLimit.fiveHourUtilization),
      "anthropic-ratelimit-unified-5h-reset": String(r.fiveHour),
      "anthropic-ratelimit-unified-7d-utilization": String(this.rateLimit.sevenDayUtilization),
      "anthropic-ratelimit-unified-7d-reset": String(r.sevenDay),
      "request-id": `req_fake_${this.requests.length}`,
      "set-cookie": "__cf_bm=fake-cookie; path=/; domain=.anthropic.com; HttpOnly; Secure",
    };
  }

  /** Checks the bearer and the OAuth beta; an error response, or the token's identity. */
  #auth(req: RecordedRequest): Response | ClaudeIdentity {
    if (req.headers["x-api-key"] !== undefined) {
      return anthropicError("authentication_error", "invalid x-api-key", 401);
    }
    const check = this.world.claude.checkAccess(bearer(req) ?? "");
    if (!check.ok) {
      return anthropicError(
        "authentication_error",
        check.reason === "expired"
          ? "OAuth token has expired. Please obtain a new token or refresh your existing token."
          : "Invalid bearer token",
        401,
      );
    }
    const betas = (req.headers["anthropic-beta"] ?? "").split(",").map((b) => b.trim());
    if (!betas.includes("oauth-2025-04-20")) {
      return anthropicError(
        "authentication_error",
        "OAuth authentication is currently not supported.",
        401,
      );
    }
    return check.identity;
  }

  protected handle(req: RecordedRequest): Response {
    const who = this.#auth(req);
    if (who instanceof Response) return who;
    if (req.method === "GET" && req.path === "/api/oauth/profile") {
      return this.json({
        account: { uuid: who.uuid, email: who.email, full_name: "Fake User", has_claude_max: true },
        organization: {
          uuid: who.orgUuid,
          name: who.orgName,
          organization_type: who.orgType,
          rate_limit_tier: "default_claude_max_20x",
        },
      });
    }
    if (req.method === "GET" && req.path === "/api/oauth/usage") return this.json(this.#usage());
    if (req.method === "POST" && (this.proxiedPaths as readonly string[]).includes(req.path)) {
      return this.#messages(req);
    }
    return anthropicError("not_found_error", "Not found", 404);
  }

  #usage(): UsageReport {
    if (this.usageReport) return this.usageReport;
    const r = this.#resets();
    const win = (utilization: number, reset: number): UsageWindow => ({
      utilization: Math.round(utilization * 1000) / 10,
      resets_at: new Date(reset * 1000).toISOString(),
    });
    return {
      five_hour: win(this.rateLimit.fiveHourUtilization, r.fiveHour),
      seven_day: win(this.rateLimit.sevenDayUtilization, r.sevenDay),
      seven_day_opus: win(0, r.sevenDay),
      seven_day_sonnet: win(this.rateLimit.sevenDayUtilization / 2, r.sevenDay),
    };
  }

  #messages(req: RecordedRequest): Response {
    if (!new URLSearchParams(req.search).has("beta", "true")) {
      return anthropicError("invalid_request_error", POLICY_MESSAGE, 400);
    }
    if (!req.headers["anthropic-version"]) {
      return anthropicError("invalid_request_error", "anthropic-version: header is required", 400);
    }
    const body = jsonObject(req);
    if (!body) return anthropicError("invalid_request_error", "Request body must be JSON.", 400);
    const model = body["model"];
    if (typeof model !== "string" || !/^claude-[a-z0-9.-]+$/.test(model)) {
      return anthropicError("not_found_error", `model: ${String(model)}`, 404);
    }
    const betas = (req.headers["anthropic-beta"] ?? "").split(",").map((b) => b.trim());
    if (!betas.includes("claude-code-20250219")) {
      return anthropicError("invalid_request_error", POLICY_MESSAGE, 400);
    }
    const system = body["system"];
    const blocks = typeof system === "string"
      ? [{ type: "text", text: system }]
      : Array.isArray(system)
      ? system as { type?: unknown; text?: unknown }[]
      : [];
    if (blocks[0]?.text !== CLAUDE_IDENTITY_PROMPT) {
      return anthropicError("invalid_request_error", POLICY_MESSAGE, 400);
    }
    const badTool = toolNames(body).find((n) => !TOOL_NAME.test(n));
    const marker = blocks.some((b) =>
      typeof b.text === "string" && CLASSIFIER_MARKERS.some((m) => (b.text as string).includes(m))
    );
    if (badTool !== undefined || marker) {
      return anthropicError("invalid_request_error", CLASSIFIER_MESSAGE, 400);
    }
    if (req.path === "/v1/messages/count_tokens") {
      return this.json({ input_tokens: this.usage.input_tokens ?? estimateTokens(req.bodyText) });
    }
    const unsigned = unsignedThinking(body);
    if (unsigned) return anthropicError("invalid_request_error", unsigned, 400);
    const reply = messagesReply(body, req.bodyText, this.reply, this.usage, {
      toolCall: this.toolCall,
      thinking: this.thinking,
    });
    if (body["stream"] === true) return this.sse(messageEvents(reply));
    return this.json(messageJson(reply));
  }
}

/**
 * A thinking block sent back in the history must carry the signature it
 * came with, as the real API insists; the error message for the first
 * that does not, else undefined.
 */
function unsignedThinking(body: Record<string, unknown>): string | undefined {
  const messages = Array.isArray(body["messages"]) ? body["messages"] : [];
  for (const [i, m] of messages.entries()) {
    const content = Array.isArray(m?.content) ? m.content : [];
    for (const [j, block] of content.entries()) {
      if (block?.type === "thinking" && block.signature !== THINKING_SIGNATURE) {
        return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
      }
    }
  }
  return undefined;
}

/** Every tool name Anthropic sees: tools[].name, tool_choice.name, tool_use blocks. */
export function toolNames(body: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const t of Array.isArray(body["tools"]) ? body["tools"] : []) {
    if (t && typeof t.name === "string") names.push(t.name);
  }
  const choice = body["tool_choice"] as { type?: unknown; name?: unknown } | undefined;
  if (choice?.type === "tool" && typeof choice.name === "string") names.push(choice.name);
  for (const m of Array.isArray(body["messages"]) ? body["messages"] : []) {
    for (const block of Array.isArray(m?.content) ? m.content : []) {
      if (block?.type === "tool_use" && typeof block.name === "string") names.push(block.name);
    }
  }
  return names;
}

export async function startFakeAnthropic(world: FakeWorld): Promise<FakeAnthropic> {
  return await new FakeAnthropic(world).init();
}

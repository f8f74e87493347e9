/**
 * Login flows behind POST /admin/accounts/:provider/oauth/{start,complete}.
 *
 * A flow lives in KV (keys.oauthFlow) with its expiry stored (expireIn only
 * cleans up), its secrets (PKCE verifier, device code) sealed, so it
 * survives a restart. A complete call never waits for the admin: a device
 * flow polls at most once, and not at all before its interval has passed.
 * A completion claims the flow atomically (concurrent calls get 409), and
 * the successful one deletes it in the same commit that saves the account:
 * a replayed complete then gets 404 (unknown), like a flow that never
 * existed; an expired flow gets 410.
 */
import { commit } from "./kv_commit.ts";
import type { Deps } from "../deps.ts";
import { randomId, seal, unseal } from "../crypto.ts";
import { KleisError } from "../errors.ts";
import { keys } from "../kv/keys.ts";
import type { ProviderId } from "../model/providers.ts";
import { accountAdapter } from "../providers/mod.ts";
import type { LoginStartInput, LoginStep } from "../providers/account_types.ts";
import { LoginFlowError, ProviderAuthError } from "../providers/common/errors.ts";
import { saveLogin } from "./repository.ts";
import { type AdminAccountView, adminAccountView } from "./status.ts";

/** How long one completion may hold the flow before another may try. */
const CLAIM_MS = 30_000;

export interface OAuthFlowRecord {
  id: string;
  provider: ProviderId;
  kind: string;
  method: "code" | "device";
  authorizationUrl: string;
  userCode?: string;
  instructions: string;
  createdAt: number;
  expiresAt: number;
  intervalMs?: number;
  nextPollAt?: number;
  claimedUntil?: number;
  meta: Record<string, string>;
  /** seal(secret, "oauth_flow:" + id) */
  sealed: string;
}

export interface FlowStartAnswer {
  flowId: string;
  method: "code" | "device";
  authorizationUrl: string;
  userCode?: string;
  instructions: string;
  expiresAt: number;
}

export type FlowCompleteAnswer =
  | { status: "pending" }
  | { status: "complete"; account: AdminAccountView };

const flowContext = (id: string) => `oauth_flow:${id}`;

export async function startOAuthFlow(
  deps: Deps,
  provider: ProviderId,
  input: LoginStartInput,
): Promise<FlowStartAnswer> {
  const started = await withProviderErrors(() => accountAdapter(provider).startLogin(deps, input));
  const id = randomId(deps.random);
  const now = deps.now();
  const record: OAuthFlowRecord = {
    id,
    provider,
    kind: started.kind,
    method: started.method,
    authorizationUrl: started.authorizationUrl,
    instructions: started.instructions,
    createdAt: now,
    expiresAt: now + started.expiresInMs,
    meta: started.meta ?? {},
    sealed: await seal(deps.sealingKey, started.secret, flowContext(id), deps.random),
  };
  if (started.userCode) record.userCode = started.userCode;
  if (started.intervalMs !== undefined) {
    record.intervalMs = started.intervalMs;
    record.nextPollAt = now + started.intervalMs;
  }
  await deps.kv.set(keys.oauthFlow(id), record, { expireIn: started.expiresInMs + 60_000 });
  const answer: FlowStartAnswer = {
    flowId: id,
    method: record.method,
    authorizationUrl: record.authorizationUrl,
    instructions: record.instructions,
    expiresAt: record.expiresAt,
  };
  if (record.userCode) answer.userCode = record.userCode;
  return answer;
}

export async function completeOAuthFlow(
  deps: Deps,
  provider: ProviderId,
  input: { flowId: string; code?: string | undefined },
): Promise<FlowCompleteAnswer> {
  const entry = await deps.kv.get<OAuthFlowRecord>(keys.oauthFlow(input.flowId));
  const flow = entry.value;
  if (!flow || flow.provider !== provider) {
    throw new KleisError(
      404,
      "flow_not_found",
      "This login flow does not exist or was already completed.",
    );
  }
  const now = deps.now();
  if (flow.expiresAt <= now) {
    await commit(deps, deps.kv.atomic().check(entry).delete(entry.key));
    throw new KleisError(410, "flow_expired", "This login flow has expired; start a new one.");
  }
  if (flow.claimedUntil !== undefined && flow.claimedUntil > now) {
    throw new KleisError(
      409,
      "flow_busy",
      "This login flow is being completed by another request.",
    );
  }
  // Too early to poll again: answer without asking the provider (no slow_down earned).
  if (flow.method === "device" && flow.nextPollAt !== undefined && now < flow.nextPollAt) {
    return { status: "pending" };
  }
  const claimed: OAuthFlowRecord = { ...flow, claimedUntil: now + CLAIM_MS };
  const claim = await commit(
    deps,
    deps.kv.atomic().check(entry).set(entry.key, claimed, {
      expireIn: Math.max(1, flow.expiresAt - now) + 60_000,
    }),
  );
  if (!claim.ok) {
    throw new KleisError(
      409,
      "flow_busy",
      "This login flow is being completed by another request.",
    );
  }
  const claimedEntry = { key: entry.key, versionstamp: claim.versionstamp };
  const secret = await unseal<Record<string, string>>(
    deps.sealingKey,
    flow.sealed,
    flowContext(flow.id),
  );

  let step: LoginStep;
  try {
    step = await withProviderErrors(() =>
      accountAdapter(provider).completeLogin(deps, {
        kind: flow.kind,
        secret,
        meta: flow.meta,
        code: input.code,
        intervalMs: flow.intervalMs,
      })
    );
  } catch (error) {
    const final = error instanceof KleisError &&
      (error.code === "login_denied" || error.code === "flow_expired");
    if (final) await commit(deps, deps.kv.atomic().check(claimedEntry).delete(entry.key));
    else await release(deps, claimedEntry, flow, {});
    throw error;
  }
  if (step.status === "pending") {
    const intervalMs = step.intervalMs ?? flow.intervalMs ?? 5_000;
    await release(deps, claimedEntry, flow, { intervalMs, nextPollAt: deps.now() + intervalMs });
    return { status: "pending" };
  }
  const saved = await saveLogin(deps, provider, step.login, {
    source: `oauth:${flow.kind}`,
    also: (op) => op.check(claimedEntry).delete(entry.key),
  });
  return { status: "complete", account: await adminAccountView(deps, saved.account) };
}

async function release(
  deps: Deps,
  claimed: { key: Deno.KvKey; versionstamp: string },
  flow: OAuthFlowRecord,
  change: Partial<OAuthFlowRecord>,
): Promise<void> {
  const next: OAuthFlowRecord = { ...flow, ...change };
  delete next.claimedUntil;
  await commit(
    deps,
    deps.kv.atomic().check(claimed).set(claimed.key, next, {
      expireIn: Math.max(1, flow.expiresAt - deps.now()) + 60_000,
    }),
  );
}

/** Provider failures during a login become admin-facing errors without secrets. */
async function withProviderErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ProviderAuthError) {
      if (error.permanent) {
        throw new LoginFlowError(
          400,
          "login_rejected",
          `The provider refused the login: ${error.message}`,
        );
      }
      throw new LoginFlowError(502, "provider_unavailable", error.message);
    }
    throw error;
  }
}

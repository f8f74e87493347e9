/**
 * GET /admin/accounts/:id/quota: live from the provider's usage endpoint,
 * normalised to windows (usedFraction 0..1, resetsAt ms), plus the last
 * headroom the proxy recorded from backend headers (keys.accountQuota).
 */
import { KleisError } from "../errors.ts";
import { keys } from "../kv/keys.ts";
import type { ProviderId } from "../model/providers.ts";
import { accountAdapter } from "../providers/mod.ts";
import type { QuotaWindow } from "../model/quota.ts";
import { ProviderAuthError } from "../providers/common/errors.ts";
import { type RefreshDeps, refreshTokens } from "./refresh.ts";
import { requireAccount } from "./repository.ts";
import { withAccountEgress } from "./egress.ts";
import type { QuotaHeadroom } from "./status.ts";
import { alertQuota } from "../alerts/events.ts";

export interface QuotaAnswer {
  provider: ProviderId;
  plan?: string;
  windows: QuotaWindow[];
  lastHeaders?: QuotaHeadroom;
  fetchedAt: number;
}

export async function getAccountQuota(deps: RefreshDeps, accountId: string): Promise<QuotaAnswer> {
  const account = await requireAccount(deps.kv, accountId);
  const tokens = await refreshTokens(deps, accountId, { actor: "admin" });
  let live;
  try {
    live = await accountAdapter(account.provider).fetchQuota(
      withAccountEgress(deps, account),
      account,
      tokens.tokens,
    );
  } catch (error) {
    if (error instanceof ProviderAuthError) {
      throw new KleisError(
        502,
        "quota_unavailable",
        `The ${account.provider} usage endpoint failed: ${error.message}`,
      );
    }
    throw error;
  }
  alertQuota(deps, accountId, live.windows);
  const answer: QuotaAnswer = {
    provider: account.provider,
    windows: live.windows,
    fetchedAt: deps.now(),
  };
  if (live.plan) answer.plan = live.plan;
  const headroom = (await deps.kv.get<QuotaHeadroom>(keys.accountQuota(accountId))).value;
  if (headroom) answer.lastHeaders = headroom;
  return answer;
}

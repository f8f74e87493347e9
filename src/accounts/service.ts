/** Admin-facing account operations that combine the store, the refresh path and the view. */
import { PROVIDER_IDS } from "../model/providers.ts";
import { type RefreshDeps, refreshTokens } from "./refresh.ts";
import { getPrimaryAccountId, listAccounts, requireAccount } from "./repository.ts";
import { type AdminAccountView, adminAccountView } from "./status.ts";

export async function listAccountViews(deps: RefreshDeps): Promise<AdminAccountView[]> {
  const primaries = new Map<string, string | undefined>();
  for (const p of PROVIDER_IDS) primaries.set(p, await getPrimaryAccountId(deps.kv, p));
  const accounts = await listAccounts(deps.kv);
  return await Promise.all(
    accounts.map((a) => adminAccountView(deps, a, primaries.get(a.provider) ?? "")),
  );
}

export async function accountView(deps: RefreshDeps, id: string): Promise<AdminAccountView> {
  return await adminAccountView(deps, await requireAccount(deps.kv, id));
}

/** POST /admin/accounts/:id/refresh: forced, 409 while another refresh of it runs. */
export async function refreshAccountNow(deps: RefreshDeps, id: string): Promise<AdminAccountView> {
  await requireAccount(deps.kv, id);
  await refreshTokens(deps, id, { force: true, failIfBusy: true, actor: "admin" });
  return await accountView(deps, id);
}

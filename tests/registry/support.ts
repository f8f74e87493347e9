/** Shared set-up of the registry tests: accounts in KV, a Copilot fake, a models.dev copy. */
import { patchAccount, saveLogin } from "../../src/accounts/repository.ts";
import type { AccountRecord } from "../../src/model/accounts.ts";
import type { ProviderId } from "../../src/model/providers.ts";
import { storeRegistry, validateRegistry } from "../../src/registry/models_dev.ts";
import { testConfig } from "../support/test_config.ts";
import { modelsDevRegistry } from "../fakes/models_dev.ts";
import type { TestDeps } from "../support/test_deps.ts";

let counter = 0;

/** Stores an account of `provider` with the given access token (as an import would). */
export async function addAccount(
  deps: TestDeps,
  provider: ProviderId,
  options: { accessToken?: string; enabled?: boolean; label?: string } = {},
): Promise<AccountRecord> {
  const n = ++counter;
  const { account } = await saveLogin(deps, provider, {
    tokens: { accessToken: options.accessToken ?? `token-${provider}-${n}` },
    identity: { externalId: `${provider}-user-${n}`, label: options.label ?? `${provider} ${n}` },
  }, { source: "test" });
  if (options.enabled === false) return await patchAccount(deps, account.id, { enabled: false });
  return account;
}

/** Caches the fake's models.dev registry in KV, as a successful refresh would. */
export async function cacheModelsDev(deps: TestDeps): Promise<void> {
  await storeRegistry(deps, validateRegistry(modelsDevRegistry()), deps.now());
}

/** Config whose Copilot upstream is the given fake. */
export function copilotAt(url: string) {
  return { upstream: { ...testConfig().upstream, copilot: url } };
}

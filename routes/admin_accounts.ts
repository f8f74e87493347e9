/** Admin API, accounts (docs/api.md#accounts). Thin: validate, call, shape. */
import { Hono } from "hono";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { badRequest } from "../src/errors.ts";
import { isProviderId, PROVIDER_IDS, type ProviderId } from "../src/model/providers.ts";
import { parseInput, readJsonBody } from "../src/request_input.ts";
import { makePrimary, patchAccount, removeAccount } from "../src/accounts/repository.ts";
import { accountView, listAccountViews, refreshAccountNow } from "../src/accounts/service.ts";
import { adminAccountView } from "../src/accounts/status.ts";
import { completeOAuthFlow, startOAuthFlow } from "../src/accounts/oauth_flows.ts";
import { importCredentials } from "../src/accounts/import.ts";
import { getAccountQuota } from "../src/accounts/quota.ts";
import { proxyUrlProblem } from "../src/outbound_proxy.ts";

const patchSchema = z.strictObject({
  label: z.string().trim().min(1).max(100).optional(),
  enabled: z.boolean().optional(),
  priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  proxy: z.string().trim().check((ctx) => {
    const problem = proxyUrlProblem(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
  }).nullable().optional(),
});

const startSchema = z.strictObject({
  mode: z.enum(["browser", "device"]).optional(),
  enterpriseDomain: z.string().max(253).optional(),
});

const completeSchema = z.strictObject({
  flowId: z.string().min(1).max(100),
  code: z.string().min(1).max(8192).optional(),
});

/** The `:provider` path parameter, or 400 unknown_provider. */
export function provider(c: Context): ProviderId {
  const p = c.req.param("provider");
  if (!isProviderId(p)) {
    throw badRequest("unknown_provider", `provider must be one of ${PROVIDER_IDS.join(", ")}.`);
  }
  return p;
}

export function adminAccountsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/accounts", async (c) => c.json({ accounts: await listAccountViews(deps) }));

  app.get(
    "/accounts/:id",
    async (c) => c.json({ account: await accountView(deps, c.req.param("id")) }),
  );

  app.patch("/accounts/:id", async (c) => {
    const patch = parseInput(patchSchema, await readJsonBody(c.req.raw));
    const account = await patchAccount(deps, c.req.param("id"), patch);
    return c.json({ account: await adminAccountView(deps, account) });
  });

  app.delete("/accounts/:id", async (c) => {
    await removeAccount(deps, c.req.param("id"));
    return c.json({ ok: true });
  });

  app.post("/accounts/:id/primary", async (c) => {
    const account = await makePrimary(deps, c.req.param("id"));
    return c.json({ account: await adminAccountView(deps, account) });
  });

  app.post("/accounts/:id/refresh", async (c) => {
    return c.json({ account: await refreshAccountNow(deps, c.req.param("id")) });
  });

  app.get(
    "/accounts/:id/quota",
    async (c) => c.json(await getAccountQuota(deps, c.req.param("id"))),
  );

  app.post("/accounts/:provider/oauth/start", async (c) => {
    const p = provider(c);
    const input = parseInput(startSchema, await readJsonBody(c.req.raw, true));
    return c.json(await startOAuthFlow(deps, p, input));
  });

  app.post("/accounts/:provider/oauth/complete", async (c) => {
    const p = provider(c);
    const input = parseInput(completeSchema, await readJsonBody(c.req.raw));
    return c.json(await completeOAuthFlow(deps, p, input));
  });

  app.post("/accounts/:provider/import", async (c) => {
    const p = provider(c);
    return c.json(await importCredentials(deps, p, await readJsonBody(c.req.raw)));
  });

  return app;
}

/** Admin API, account selection strategy per provider (docs/api.md#account-selection). */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { badRequest } from "../src/errors.ts";
import { isProviderId, PROVIDER_IDS } from "../src/model/providers.ts";
import { SELECTION_STRATEGIES } from "../src/model/selection.ts";
import { parseInput, readJsonBody } from "../src/request_input.ts";
import {
  getSelectionStrategies,
  setSelectionStrategy,
} from "../src/accounts/selection_settings.ts";

const putSchema = z.strictObject({ strategy: z.enum(SELECTION_STRATEGIES) });

export function adminSelectionRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/selection", async (c) => c.json({ providers: await getSelectionStrategies(deps.kv) }));

  app.put("/selection/:provider", async (c) => {
    const provider = c.req.param("provider");
    if (!isProviderId(provider)) {
      throw badRequest("unknown_provider", `provider must be one of ${PROVIDER_IDS.join(", ")}.`);
    }
    const input = parseInput(putSchema, await readJsonBody(c.req.raw));
    return c.json(await setSelectionStrategy(deps, provider, input.strategy));
  });

  return app;
}

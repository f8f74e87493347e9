/** Admin API, account selection strategy per provider (docs/api.md#account-selection). */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { SELECTION_STRATEGIES } from "../src/model/selection.ts";
import { parseInput, readJsonBody } from "../src/request_input.ts";
import {
  getSelectionStrategies,
  setSelectionStrategy,
} from "../src/accounts/selection_settings.ts";
import { provider } from "./admin_accounts.ts";

const putSchema = z.strictObject({ strategy: z.enum(SELECTION_STRATEGIES) });

export function adminSelectionRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/selection", async (c) => c.json({ providers: await getSelectionStrategies(deps.kv) }));

  app.put("/selection/:provider", async (c) => {
    const p = provider(c);
    const input = parseInput(putSchema, await readJsonBody(c.req.raw));
    return c.json(await setSelectionStrategy(deps, p, input.strategy));
  });

  return app;
}

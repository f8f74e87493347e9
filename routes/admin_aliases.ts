/** Admin API for model aliases (docs/api.md#model-aliases). Thin: validate, call the service, shape. */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { parseInput, readJsonBody } from "../src/request_input.ts";
import {
  deleteAlias,
  getAliasView,
  listAliasViews,
  setAlias,
  setAliasSchema,
} from "../src/registry/alias_service.ts";

export function adminAliasesRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/aliases", async (c) => c.json({ aliases: await listAliasViews(deps) }));

  app.get(
    "/aliases/:name",
    async (c) => c.json({ alias: await getAliasView(deps, c.req.param("name")) }),
  );

  app.put("/aliases/:name", async (c) => {
    const input = parseInput(setAliasSchema, await readJsonBody(c.req.raw));
    const { alias, created } = await setAlias(deps, c.req.param("name"), input);
    return c.json({ alias }, created ? 201 : 200);
  });

  app.delete("/aliases/:name", async (c) => {
    await deleteAlias(deps, c.req.param("name"));
    return c.json({ deleted: true, name: c.req.param("name") });
  });

  return app;
}

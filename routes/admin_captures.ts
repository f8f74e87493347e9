/**
 * Admin API for request capture (docs/api.md#request-capture): switch it on
 * and off per key, list, view and delete a key's captures. Thin: validate,
 * call src/capture/service.ts, shape.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { parseInput, readJsonBody } from "../src/request_input.ts";
import {
  captureOverview,
  DEFAULT_CAPTURE_SECONDS,
  deleteAllCaptures,
  deleteCapture,
  MAX_CAPTURE_SECONDS,
  MIN_CAPTURE_SECONDS,
  startCapture,
  stopCapture,
  viewCapture,
} from "../src/capture/service.ts";

const startSchema = z.strictObject({
  durationSeconds: z.number().int().min(MIN_CAPTURE_SECONDS).max(MAX_CAPTURE_SECONDS).optional(),
});

export function adminCaptureRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.post("/keys/:id/capture", async (c) => {
    const input = parseInput(startSchema, await readJsonBody(c.req.raw, true));
    const seconds = input.durationSeconds ?? DEFAULT_CAPTURE_SECONDS;
    return c.json({ capture: await startCapture(deps, c.req.param("id"), seconds) });
  });

  app.delete("/keys/:id/capture", async (c) => {
    return c.json({ capture: await stopCapture(deps, c.req.param("id")) });
  });

  app.get("/keys/:id/captures", async (c) => {
    return c.json(await captureOverview(deps, c.req.param("id")));
  });

  app.delete("/keys/:id/captures", async (c) => {
    return c.json({ deleted: await deleteAllCaptures(deps, c.req.param("id")) });
  });

  app.get("/keys/:id/captures/:captureId", async (c) => {
    const capture = await viewCapture(deps, c.req.param("id"), c.req.param("captureId"));
    return c.json({ capture });
  });

  app.delete("/keys/:id/captures/:captureId", async (c) => {
    await deleteCapture(deps, c.req.param("id"), c.req.param("captureId"));
    return c.json({ deleted: true, id: c.req.param("captureId") });
  });

  return app;
}

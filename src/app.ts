/**
 * Builds the Hono application from its dependencies. Routing only: every
 * route module is a thin sub-app; errors are mapped to HTTP in one place.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "./app_env.ts";
import type { Deps } from "./deps.ts";
import { errorResponse, errorStyleForPath, KleisError, toKleisError } from "./errors.ts";
import { randomId } from "./crypto.ts";
import { healthRoutes } from "../routes/health.ts";
import { registryRoutes } from "../routes/registry.ts";
import { adminPageRoutes } from "../routes/admin_page.ts";
import { adminApiRoutes } from "../routes/admin.ts";
import { proxyRoutes } from "../routes/proxy.ts";
import { modelsRoutes } from "../routes/models.ts";
import { metricsRoutes } from "../routes/metrics.ts";
import { apiKeyAuth } from "./auth/api_key_auth.ts";
import { bodyLimit } from "hono/body-limit";
import { pathGuard } from "./path_guard.ts";

/** Path prefixes that require an API key. */
const PROXY_PREFIXES = ["/openai/*", "/anthropic/*", "/copilot/*", "/v1/*"] as const;

export function createApp(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use("*", async (c, next) => {
    c.set("requestId", randomId(deps.random));
    await next();
  });
  // Before any route: a segment no id can match never reaches KV or the file system.
  app.use("*", pathGuard());

  app.get("/", (c) => c.redirect("/admin/", 302));
  app.route("/", healthRoutes(deps));
  app.route("/", registryRoutes(deps));
  app.route("/", adminPageRoutes(deps));
  app.route("/admin", adminApiRoutes(deps));
  app.route("/", metricsRoutes(deps));
  const keyAuth = apiKeyAuth(deps);
  const limitAnyBody = bodyLimit({
    maxSize: deps.config.maxBodyBytes,
    onError: () => {
      throw new KleisError(
        413,
        "request_too_large",
        `The request body is larger than ${deps.config.maxBodyBytes} bytes.`,
      );
    },
  });
  // A GET or HEAD has no body to limit; skipping the check spares those
  // requests the cost of materialising one (measured by bench/auth_bench.ts).
  const limitBody: MiddlewareHandler<AppEnv> = (c, next) =>
    c.req.method === "GET" || c.req.method === "HEAD" ? next() : limitAnyBody(c, next);
  for (const prefix of PROXY_PREFIXES) {
    app.use(prefix, keyAuth);
    app.use(prefix, limitBody);
  }
  app.route("/", modelsRoutes(deps));
  app.route("/", proxyRoutes(deps));

  app.notFound((c) =>
    errorResponse(
      errorStyleForPath(c.req.path),
      new KleisError(404, "not_found", `No route matches ${c.req.method} ${c.req.path}.`),
    )
  );

  app.onError((caught, c) => {
    const error = toKleisError(caught, deps.log, {
      path: c.req.path,
      requestId: c.get("requestId"),
    });
    if (error === caught && error.status >= 500) {
      deps.log.error(error.message, { path: c.req.path, cause: error.cause });
    }
    return errorResponse(errorStyleForPath(c.req.path), error);
  });

  return app;
}

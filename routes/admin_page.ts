/**
 * Serves the admin page: GET /admin/ → static/index.html and
 * /admin/assets/<name> → static/assets/<name>. Files are read relative to this
 * module (not the working directory), so the page works from any cwd and on
 * Deno Deploy. The page holds the admin token, so it gets a strict CSP (no
 * inline script or style, same-origin fetches only) and is never cached.
 */
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../src/app_env.ts";
import type { Deps } from "../src/deps.ts";
import { KleisError } from "../src/errors.ts";

const STATIC_ROOT = new URL("../static/", import.meta.url);

const CONTENT_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
};

/**
 * One flat folder of assets; the name pattern rules out traversal (no slash,
 * no leading dot) and names longer than any file system accepts.
 */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}\.(js|css|svg|png|ico)$/;

const pageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
  referrerPolicy: "no-referrer",
  xContentTypeOptions: "nosniff",
  xFrameOptions: "DENY",
  crossOriginResourcePolicy: "same-origin",
  crossOriginOpenerPolicy: "same-origin",
});

async function readStatic(relative: string): Promise<Uint8Array<ArrayBuffer> | null> {
  try {
    return await Deno.readFile(new URL(relative, STATIC_ROOT));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory) {
      return null;
    }
    throw error;
  }
}

function pageNotFound(path: string): never {
  throw new KleisError(404, "not_found", `No route matches GET ${path}.`);
}

export function adminPageRoutes(_deps: Deps) {
  const app = new Hono<AppEnv>();

  app.use("/admin", pageHeaders);
  app.use("/admin/", pageHeaders);
  app.use("/admin/assets/*", pageHeaders);

  // A relative asset URL in index.html needs the trailing slash to resolve under /admin/.
  app.get("/admin", (c) => c.redirect("/admin/", 301));

  app.get("/admin/", async (c) => {
    const body = await readStatic("index.html");
    if (!body) pageNotFound(c.req.path);
    c.header("Content-Type", "text/html; charset=utf-8");
    c.header("Cache-Control", "no-store");
    return c.body(body);
  });

  app.get("/admin/assets/:name", async (c) => {
    const name = c.req.param("name");
    const match = ASSET_NAME.exec(name);
    if (!match) pageNotFound(c.req.path);
    const body = await readStatic(`assets/${name}`);
    if (!body) pageNotFound(c.req.path);
    c.header("Content-Type", CONTENT_TYPES[match[1]!] ?? "application/octet-stream");
    // Assets are not fingerprinted, so the browser revalidates each load: a deploy shows at once.
    c.header("Cache-Control", "no-cache");
    return c.body(body);
  });

  return app;
}

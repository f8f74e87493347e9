import assert from "node:assert/strict";
import { createApp } from "../../src/app.ts";
import { testDeps } from "../support/test_deps.ts";

const STATIC = new URL("../../static/", import.meta.url);

/** The policy routes/admin_page.ts must send, written out independently of it. */
const ADMIN_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

async function staticFiles(): Promise<{ name: string; text: string }[]> {
  const out = [{
    name: "index.html",
    text: await Deno.readTextFile(new URL("index.html", STATIC)),
  }];
  for await (const entry of Deno.readDir(new URL("assets/", STATIC))) {
    if (!entry.isFile) continue;
    out.push({
      name: `assets/${entry.name}`,
      text: await Deno.readTextFile(new URL(`assets/${entry.name}`, STATIC)),
    });
  }
  return out;
}

Deno.test("admin page routes", async (t) => {
  await using deps = await testDeps();
  const app = createApp(deps);

  await t.step("GET /admin redirects to /admin/ so relative asset URLs resolve", async () => {
    const res = await app.request("/admin");
    assert.equal(res.status, 301);
    assert.equal(res.headers.get("location"), "/admin/");
  });

  await t.step("GET /admin/ serves index.html without the admin token, uncached", async () => {
    const res = await app.request("/admin/");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const html = await res.text();
    assert.match(html, /<script type="module" src="assets\/main\.js"><\/script>/);
  });

  await t.step("the page carries a strict CSP and the hardening headers", async () => {
    const res = await app.request("/admin/");
    await res.body?.cancel();
    assert.equal(res.headers.get("content-security-policy"), ADMIN_PAGE_CSP);
    for (
      const part of [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'none'",
        "base-uri 'none'",
      ]
    ) assert.ok(ADMIN_PAGE_CSP.includes(part), part);
    assert.ok(!ADMIN_PAGE_CSP.includes("unsafe"), "no unsafe-inline or unsafe-eval");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.equal(res.headers.get("x-frame-options"), "DENY");
  });

  await t.step("assets are served with their content type and the same headers", async () => {
    const js = await app.request("/admin/assets/main.js");
    assert.equal(js.status, 200);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(js.headers.get("content-security-policy"), ADMIN_PAGE_CSP);
    assert.equal(js.headers.get("x-content-type-options"), "nosniff");
    assert.match(await js.text(), /import /);
    const css = await app.request("/admin/assets/app.css");
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    await css.body?.cancel();
  });

  await t.step("unknown assets and path tricks answer 404 in the kleis error shape", async () => {
    for (
      const path of [
        "/admin/assets/nope.js",
        "/admin/assets/..%2Findex.html",
        "/admin/assets/.hidden.js",
        "/admin/assets/main.ts",
        "/admin/assets/%2E%2E%2F%2E%2E%2Fdeno.json",
      ]
    ) {
      const res = await app.request(path);
      assert.equal(res.status, 404, path);
      const body = await res.json();
      assert.equal(body.error.code, "not_found", path);
    }
  });

  await t.step("the admin API next to the page still requires the token", async () => {
    const res = await app.request("/admin/keys");
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });
});

Deno.test("admin page sources cannot inject markup or break the CSP", async (t) => {
  const files = await staticFiles();

  await t.step("no script parses HTML from strings (innerHTML, outerHTML, document.write)", () => {
    for (const { name, text } of files.filter((f) => f.name.endsWith(".js"))) {
      for (
        const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("]
      ) {
        assert.ok(!text.includes(sink), `${name} uses ${sink}`);
      }
    }
  });

  await t.step("index.html has no inline script, inline style or event handler attribute", () => {
    const html = files.find((f) => f.name === "index.html")!.text;
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), "inline <script>");
    assert.ok(!/<style/i.test(html), "inline <style>");
    assert.ok(!/\sstyle=/i.test(html), "style attribute");
    assert.ok(!/\son[a-z]+=/i.test(html), "event handler attribute");
  });

  await t.step("the admin token is kept in sessionStorage, never localStorage or a URL", () => {
    const all = files.map((f) => f.text).join("\n");
    assert.ok(!all.includes("localStorage"), "localStorage used");
    const api = files.find((f) => f.name === "assets/api.js")!.text;
    assert.match(api, /sessionStorage\.setItem/);
    assert.match(api, /Authorization = `Bearer \$\{token\}`/);
  });
});

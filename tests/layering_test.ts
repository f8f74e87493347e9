/**
 * Layering rule: an import may only point at the same layer or a lower one.
 *
 *   app       main.ts, src/app.ts (composition: wires routes, services, deps)
 *   routes    routes/ (thin Hono sub-apps)
 *   services  src/metrics/, src/audit.ts, src/alerts/, src/usage/, src/accounts/,
 *             src/keys/, src/auth/, src/registry/, src/capture/, src/proxy/,
 *             src/backup/, src/jobs/
 *   kv        src/kv/ (every KV key, opening the store)
 *   providers src/providers/ (one folder per backend, shared adapter contracts)
 *             and src/translate/ (pure translation between the client APIs)
 *   base      src/model/ (records and value types every area shares) and the
 *             generic modules in src/ (config, errors, crypto, log, sse, json,
 *             deps, app_env, ...)
 *
 * Services are ordered too, lowest first; one may import only a service to its
 * left, so services never form a cycle:
 *
 *   metrics < audit < alerts < usage < accounts < keys < auth < registry < capture < proxy
 *     < backup < jobs
 *
 * (The proxy uses accounts, keys and usage; keys check pinned accounts; usage
 * knows nothing of accounts. Alerts sit low because accounts, usage, the
 * proxy and backups raise them; they read what they report from KV. Every
 * area may count into metrics, which knows none of them.)
 * src/model/ imports nothing outside src/model/. Type-only imports count like
 * any other.
 */
import assert from "node:assert/strict";

const ROOTS = ["main.ts", "src", "routes"];

const SERVICE_ORDER = [
  "metrics",
  "audit",
  "alerts",
  "usage",
  "accounts",
  "keys",
  "auth",
  "registry",
  "capture",
  "proxy",
  "backup",
  "jobs",
] as const;

const LAYERS = ["base", "providers", "kv", "services", "routes", "app"] as const;
type Layer = typeof LAYERS[number];

interface Place {
  layer: Layer;
  /** Services only: the area (accounts, proxy, ...). */
  service?: string;
}

/** The layer of a module, by its path relative to the repository root; undefined when none fits. */
export function placeOf(path: string): Place | undefined {
  if (path === "main.ts" || path === "src/app.ts") return { layer: "app" };
  if (path.startsWith("routes/")) return { layer: "routes" };
  if (path === "src/audit.ts") return { layer: "services", service: "audit" };
  const parts = path.split("/");
  if (parts[0] !== "src") return undefined;
  if (parts.length === 2) return { layer: "base" };
  const area = parts[1]!;
  if (area === "model") return { layer: "base" };
  if (area === "providers" || area === "translate") return { layer: "providers" };
  if (area === "kv") return { layer: "kv" };
  if ((SERVICE_ORDER as readonly string[]).includes(area)) {
    return { layer: "services", service: area };
  }
  return undefined;
}

export interface Edge {
  from: string;
  to: string;
}

/** Why an import breaks the rule, or undefined when it keeps it. */
export function violation(edge: Edge): string | undefined {
  const from = placeOf(edge.from);
  const to = placeOf(edge.to);
  if (!from) return `${edge.from} belongs to no layer (add it to tests/layering_test.ts)`;
  if (!to) return `${edge.to} belongs to no layer (add it to tests/layering_test.ts)`;
  if (edge.from.startsWith("src/model/") && !edge.to.startsWith("src/model/")) {
    return `${edge.from} imports ${edge.to}: src/model/ imports only src/model/`;
  }
  const up = LAYERS.indexOf(to.layer) - LAYERS.indexOf(from.layer);
  if (up > 0) {
    return `${edge.from} (${from.layer}) imports ${edge.to} (${to.layer}): ` +
      `a lower layer may not import a higher one (${LAYERS.join(" < ")})`;
  }
  if (from.service && to.service) {
    const rank = (s: string) => (SERVICE_ORDER as readonly string[]).indexOf(s);
    if (rank(to.service) > rank(from.service)) {
      return `${edge.from} (service ${from.service}) imports ${edge.to} (service ${to.service}): ` +
        `a service may import only services before it (${SERVICE_ORDER.join(" < ")})`;
    }
  }
  return undefined;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;

async function sourceFiles(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string) => {
    const info = await Deno.stat(path);
    if (info.isFile) {
      if (path.endsWith(".ts")) out.push(path);
      return;
    }
    for await (const entry of Deno.readDir(path)) await walk(`${path}/${entry.name}`);
  };
  for (const root of ROOTS) await walk(root);
  return out.sort();
}

function resolve(from: string, specifier: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

/** Every relative import (static, re-export, dynamic) of the repository's runtime code. */
async function importEdges(): Promise<Edge[]> {
  const edges: Edge[] = [];
  for (const file of await sourceFiles()) {
    const text = await Deno.readTextFile(file);
    for (const match of text.matchAll(SPECIFIER)) {
      const specifier = match[1]!;
      if (specifier.startsWith(".")) edges.push({ from: file, to: resolve(file, specifier) });
    }
  }
  return edges;
}

Deno.test("layering", async (t) => {
  const edges = await importEdges();

  await t.step("the parser sees the imports (composition root, model, a multi-line import)", () => {
    assert.ok(edges.length > 300, `only ${edges.length} imports found`);
    const has = (from: string, to: string) => edges.some((e) => e.from === from && e.to === to);
    assert.ok(has("main.ts", "src/app.ts"));
    assert.ok(has("src/kv/keys.ts", "src/model/providers.ts"));
    // `import type {` on one line, the names on the next lines, `} from "../proxy_types.ts";` last.
    assert.ok(has("src/providers/codex/proxy.ts", "src/providers/proxy_types.ts"));
    assert.ok(edges.every((e) => !e.to.includes("..")));
  });

  await t.step("the rule rejects upward imports and service cycles", () => {
    assert.match(
      violation({ from: "src/providers/mod.ts", to: "src/kv/keys.ts" }) ?? "",
      /\(providers\) imports .* \(kv\)/,
    );
    assert.match(
      violation({ from: "src/providers/mod.ts", to: "src/accounts/repository.ts" }) ?? "",
      /lower layer may not import a higher one/,
    );
    assert.match(
      violation({ from: "src/accounts/status.ts", to: "src/proxy/engine.ts" }) ?? "",
      /service accounts\) imports .* \(service proxy\)/,
    );
    assert.match(
      violation({ from: "src/model/keys.ts", to: "src/crypto.ts" }) ?? "",
      /src\/model\/ imports only src\/model\//,
    );
    assert.match(violation({ from: "src/new_area/x.ts", to: "src/log.ts" }) ?? "", /no layer/);
    assert.equal(
      violation({ from: "src/proxy/engine.ts", to: "src/accounts/cooldowns.ts" }),
      undefined,
    );
    assert.equal(violation({ from: "routes/proxy.ts", to: "src/model/keys.ts" }), undefined);
  });

  await t.step("no import in main.ts, src/ or routes/ runs up the layers", () => {
    const found = edges.map(violation).filter((v): v is string => v !== undefined);
    assert.equal(found.length, 0, `\n${found.join("\n")}`);
  });
});

/**
 * Comments may only cite what ships in the repository: docs/ pages that
 * exist (and, with an #anchor, a heading that exists), never the outside
 * design documents or a tracker's issue numbers. The links between the
 * docs/ pages are checked the same way.
 */
import assert from "node:assert/strict";
import { fileComments, scriptComments, type SourceComment } from "./support/source_comments.ts";

const ROOT = new URL("../", import.meta.url);
const SCANNED = ["src", "routes", "tests", "bench", "static", "main.ts"];
const SOURCE = /\.(ts|js|mjs|css|html|sh)$/;

/**
 * What a comment must not cite, each rule returning the offending text.
 * Built from strings so that this file's own comments cannot trip them.
 */
const FORBIDDEN: { find: (text: string) => string | undefined; why: string }[] = [
  {
    // A path naming providers/api/design .md is fine only when it is a docs/ page.
    find: (text) =>
      [...text.matchAll(
        new RegExp(String.raw`[\w./-]*(?<![\w-])(?:providers|api|design)\.md\b`, "g"),
      )]
        .map((m) => m[0]).find((path) => !/(^|\/)docs\//.test(path)),
    why: "cites a design document that does not ship (point at docs/... instead)",
  },
  { find: matcher(String.raw`\bissues?\s+#?\d+`), why: "cites a tracker issue number" },
  { find: matcher(String.raw`\bdesign rules?\s+\d`), why: "cites a numbered rule" },
  { find: matcher("\u00a7"), why: "cites a numbered section of an outside document" },
];

function matcher(source: string): (text: string) => string | undefined {
  const pattern = new RegExp(source, "i");
  return (text) => pattern.exec(text)?.[0];
}

/** A docs/ path with an optional anchor, as comments cite it. */
const DOC_REFERENCE = /\bdocs\/[A-Za-z0-9_./-]*?\.md(?:#[A-Za-z0-9_-]+)?/g;

/** A repository path in a code span of a docs/ page: `src/proxy/engine.ts`, `tests/fakes/`. */
const SOURCE_PATH = /`((?:src|routes|tests|bench|static)\/[A-Za-z0-9_./{},-]*)`/g;

/** `a/{b,c}/d` → `a/b/d`, `a/c/d` (one level of braces, as the pages write them). */
export function expandBraces(path: string): string[] {
  const match = /\{([^{}]*)\}/.exec(path);
  if (!match) return [path];
  return match[1]!.split(",").flatMap((part) =>
    expandBraces(path.slice(0, match.index) + part + path.slice(match.index + match[0].length))
  );
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

/** The anchors of a markdown page (a repeated heading gets -1, -2, ... as on GitHub). */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const match = fenced ? null : /^#{1,6}\s+(.+?)\s*#*$/.exec(line);
    if (!match) continue;
    const base = headingSlug(match[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The file line of a position in a comment's text. */
function lineOf(comment: SourceComment, index: number): number {
  return comment.line + (comment.text.slice(0, index).match(/\n/g)?.length ?? 0);
}

/** Files under a repository path (itself, if it is a file), sorted, skipping dot and node_modules. */
async function* walk(path: string): AsyncGenerator<string> {
  if ((await Deno.stat(new URL(path, ROOT))).isFile) {
    yield path;
    return;
  }
  const names: string[] = [];
  for await (const entry of Deno.readDir(new URL(`${path}/`, ROOT))) names.push(entry.name);
  for (const name of names.sort()) {
    if (name !== "node_modules" && !name.startsWith(".")) yield* walk(`${path}/${name}`);
  }
}

async function sourceFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const top of SCANNED) {
    for await (const path of walk(top)) {
      if (SOURCE.test(path)) files.push(path);
    }
  }
  return files;
}

const anchorCache = new Map<string, Set<string> | null>();

/** The anchors of a repository file, or null when it does not exist. */
async function anchorsOf(path: string): Promise<Set<string> | null> {
  if (!anchorCache.has(path)) {
    try {
      anchorCache.set(path, headingAnchors(await Deno.readTextFile(new URL(path, ROOT))));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      anchorCache.set(path, null);
    }
  }
  return anchorCache.get(path)!;
}

/** What is wrong with a reference to `target` (a repository path, maybe with #anchor). */
async function brokenReference(target: string): Promise<string | undefined> {
  const [path, anchor] = target.split("#") as [string, string | undefined];
  const anchors = await anchorsOf(path);
  if (anchors === null) return `${path} does not exist`;
  if (anchor !== undefined && !anchors.has(anchor)) return `${path} has no heading #${anchor}`;
  return undefined;
}

/** Resolves a link in docs/<from> ("../README.md#api", "codex.md#refresh") to a repository path. */
function resolveLink(from: string, link: string): string {
  const base = new URL(from, "file:///repo/");
  const url = new URL(link, base);
  return decodeURIComponent(url.pathname.slice("/repo/".length)) + url.hash;
}

Deno.test("source comments cite only documents that ship", async (t) => {
  await t.step("the comment lexer skips strings and regular expressions", () => {
    const source = [
      `const url = "https://example.com/x"; // one`,
      `const re = /^https?:\\/\\//i; /* two */`,
      "const t = `a // not ${1 / 2} a comment`;",
      `const half = 4 / 2; // three /* still three`,
      `return /[/]x/.test(s); // four`,
    ].join("\n");
    assert.deepEqual(
      scriptComments(source).map((c) => [c.line, c.text.trim()]),
      [[1, "one"], [2, "two"], [4, "three /* still three"], [5, "four"]],
    );
    assert.deepEqual(fileComments("a.sh", "#!/bin/sh\n# five\necho '#x'").map((c) => c.text), [
      " five",
    ]);
  });

  await t.step("the rules catch what they are for, and only that", () => {
    const flagged = (text: string) => FORBIDDEN.some((f) => f.find(text) !== undefined);
    for (
      const bad of [
        "(see providers" + ".md 2.1)",
        "api" + ".md: Error shapes",
        "design" + ".md",
        "spec/providers" + ".md",
        "(issue 4, item 2)",
        "Issue #12",
        "design rule 7",
        "\u00a71.3",
      ]
    ) assert.equal(flagged(bad), true, bad);
    for (
      const good of [
        "docs/api" + ".md#error-shapes",
        "docs/providers/codex.md#refresh",
        "an issue with the stream",
        "../docs/api" + ".md",
      ]
    ) assert.equal(flagged(good), false, good);
  });

  await t.step("brace lists in paths expand", () => {
    assert.deepEqual(expandBraces("src/providers/{copilot,codex}/x.ts"), [
      "src/providers/copilot/x.ts",
      "src/providers/codex/x.ts",
    ]);
  });

  await t.step("the heading anchors follow GitHub's", () => {
    const anchors = headingAnchors(
      "# Title\n## Login: PKCE with code#state paste-back\n```\n# not a heading\n```\n" +
        "## Usage through queues, and what a crash can lose\n## Same\n## Same\n",
    );
    assert.deepEqual([...anchors], [
      "title",
      "login-pkce-with-codestate-paste-back",
      "usage-through-queues-and-what-a-crash-can-lose",
      "same",
      "same-1",
    ]);
  });

  const files = await sourceFiles();
  assert.ok(files.length > 100, `only ${files.length} source files found`);
  let references = 0;

  await t.step("no comment cites an outside document or an issue number", async () => {
    const problems: string[] = [];
    for (const path of files) {
      const source = await Deno.readTextFile(new URL(path, ROOT));
      for (const comment of fileComments(path, source)) {
        for (const { find, why } of FORBIDDEN) {
          const found = find(comment.text);
          if (found === undefined) continue;
          const line = lineOf(comment, comment.text.indexOf(found));
          problems.push(`${path}:${line}: "${found}" ${why}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  await t.step("every docs/ page and anchor a comment cites exists", async () => {
    const problems: string[] = [];
    for (const path of files) {
      const source = await Deno.readTextFile(new URL(path, ROOT));
      for (const comment of fileComments(path, source)) {
        for (const match of comment.text.matchAll(DOC_REFERENCE)) {
          references++;
          const broken = await brokenReference(match[0]);
          if (broken) problems.push(`${path}:${lineOf(comment, match.index)}: ${broken}`);
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(references >= 40, `only ${references} docs/ references found in comments`);
  });

  await t.step("every source path a docs/ page names exists", async () => {
    const problems: string[] = [];
    let named = 0;
    for await (const page of walk("docs")) {
      if (!page.endsWith(".md")) continue;
      const markdown = await Deno.readTextFile(new URL(page, ROOT));
      for (const [, path] of markdown.matchAll(SOURCE_PATH)) {
        for (const candidate of expandBraces(path!.replace(/\/$/, ""))) {
          named++;
          try {
            await Deno.stat(new URL(candidate, ROOT));
          } catch (error) {
            if (!(error instanceof Deno.errors.NotFound)) throw error;
            problems.push(`${page}: ${candidate} does not exist`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(named >= 30, `only ${named} source paths found in docs/`);
  });

  await t.step("the links between docs/ pages resolve", async () => {
    const problems: string[] = [];
    for await (const page of walk("docs")) {
      if (!page.endsWith(".md")) continue;
      const markdown = await Deno.readTextFile(new URL(page, ROOT));
      for (const [, link] of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(link!)) continue;
        const target = link!.startsWith("#") ? page + link : resolveLink(page, link!);
        const broken = await brokenReference(target);
        if (broken) problems.push(`${page}: link ${link}: ${broken}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});

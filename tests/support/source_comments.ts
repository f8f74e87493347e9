/**
 * The comments of a source file, for checks on what comments say (see
 * tests/docs_test.ts). A small lexer rather than a regular expression: `//`
 * inside a string ("https://...") or a regular expression literal is not a
 * comment, and a comment marker inside a comment is just text.
 */

export interface SourceComment {
  /** 1-based line of the comment's first character. */
  line: number;
  text: string;
}

/** Characters after which a `/` starts a regular expression, not a division. */
const REGEX_AFTER = new Set("(,=:[!&|?{};+-*%<>~^".split(""));
const REGEX_AFTER_WORDS = new Set(["return", "typeof", "case", "of", "in", "delete", "void"]);

function lineAt(source: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/** Whether a `/` at `index` opens a regular expression literal. */
function opensRegex(source: string, index: number): boolean {
  let i = index - 1;
  while (i >= 0 && /\s/.test(source[i]!)) i--;
  if (i < 0) return true;
  const before = source[i]!;
  if (REGEX_AFTER.has(before)) return true;
  if (!/[A-Za-z_$]/.test(before)) return false;
  let start = i;
  while (start > 0 && /[A-Za-z0-9_$]/.test(source[start - 1]!)) start--;
  return REGEX_AFTER_WORDS.has(source.slice(start, i + 1));
}

/** Index just past a quoted string or regex literal starting at `index` (bounded by the text). */
function skipQuoted(source: string, index: number, quote: string): number {
  let i = index + 1;
  let inClass = false;
  while (i < source.length) {
    const c = source[i]!;
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (quote === "/" && c === "[") inClass = true;
    else if (quote === "/" && c === "]") inClass = false;
    else if (c === quote && !inClass) return i + 1;
    else if (c === "\n" && quote !== "`") return i;
    i++;
  }
  return i;
}

/**
 * Comments of JavaScript or TypeScript source. Template literals are skipped
 * whole, `${...}` parts included (comments inside them are not looked for).
 */
export function scriptComments(source: string): SourceComment[] {
  const out: SourceComment[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      const stop = end < 0 ? source.length : end;
      out.push({ line: lineAt(source, i), text: source.slice(i + 2, stop) });
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? source.length : end;
      out.push({ line: lineAt(source, i), text: source.slice(i + 2, stop) });
      i = end < 0 ? source.length : end + 2;
    } else if (c === '"' || c === "'" || c === "`") {
      i = skipQuoted(source, i, c);
    } else if (c === "/" && opensRegex(source, i)) {
      i = skipQuoted(source, i, "/");
    } else {
      i++;
    }
  }
  return out;
}

/** Comments of a file, by its extension; files without comments of a known kind give none. */
export function fileComments(path: string, source: string): SourceComment[] {
  if (/\.(ts|js|mjs)$/.test(path)) return scriptComments(source);
  const out: SourceComment[] = [];
  if (/\.css$/.test(path)) {
    for (const m of source.matchAll(/\/\*([\s\S]*?)\*\//g)) {
      out.push({ line: lineAt(source, m.index), text: m[1]! });
    }
  } else if (/\.html$/.test(path)) {
    for (const m of source.matchAll(/<!--([\s\S]*?)-->/g)) {
      out.push({ line: lineAt(source, m.index), text: m[1]! });
    }
  } else if (/\.sh$/.test(path)) {
    source.split("\n").forEach((text, n) => {
      const trimmed = text.trimStart();
      if (trimmed.startsWith("#") && !trimmed.startsWith("#!")) {
        out.push({ line: n + 1, text: trimmed.slice(1) });
      }
    });
  }
  return out;
}

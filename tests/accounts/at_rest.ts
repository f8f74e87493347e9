/** Checks that no token is stored in clear in a KV file (db, -wal, -shm). */
import assert from "node:assert/strict";
import type { FakeWorld } from "../fakes/world.ts";

/** Every token the fake providers ever issued or were seeded with. */
export function allTokens(world: FakeWorld): string[] {
  const out: string[] = [];
  for (const book of [world.github, world.copilotApi, world.codex, world.claude]) {
    out.push(...book.access.keys(), ...book.refresh.keys());
  }
  return out;
}

const utf16 = (s: string) => new Uint8Array([...s].flatMap((ch) => [ch.charCodeAt(0), 0]));

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** Reads the KV file and its -wal/-shm companions; asserts no token appears in clear. */
export async function assertNoTokenAtRest(dbPath: string, tokens: string[]): Promise<number> {
  let bytes = 0;
  for (const suffix of ["", "-wal", "-shm"]) {
    let data: Uint8Array;
    try {
      data = await Deno.readFile(dbPath + suffix);
    } catch {
      continue;
    }
    bytes += data.length;
    for (const token of tokens) {
      // A distinctive slice is enough: the tail of a JWT or the random part of a token.
      const probe = token.length > 24 ? token.slice(-24) : token;
      const ascii = new TextEncoder().encode(probe);
      assert.ok(!contains(data, ascii), `a token appears in clear in ${dbPath}${suffix}`);
      assert.ok(!contains(data, utf16(probe)), `a token appears (UTF-16) in ${dbPath}${suffix}`);
    }
  }
  return bytes;
}

/**
 * Claude Code tool names (docs/providers/claude.md#body-rules): Anthropic only accepts tool
 * names that look like Claude Code's (`^mcp_[A-Z]`). Kleis renames every
 * client tool on the way up and reverses the renaming exactly on the way
 * down, from a mapping built from the request itself (its tool list, its
 * tool_choice and the tool_use blocks of its history), so every name comes
 * back exactly as the client sent it.
 */
import type { SseEvent } from "../../sse.ts";
import { encodeEvent } from "../../sse.ts";
import type { AnswerRewriter } from "../proxy_types.ts";
import { isObject, type JsonObject, parseJsonObject } from "../../json.ts";
import { CLAUDE_TOOL_NAME_PREFIX } from "./constants.ts";

export interface ToolNameMap {
  /** client name → upstream name */
  up: Map<string, string>;
  /** upstream name → client name */
  down: Map<string, string>;
}

/** `read` → `mcp_Read`, `mcp_custom` → `mcp_Mcp_custom`, `_x` → `mcp_X_x`. */
export function upstreamToolName(name: string): string {
  const first = name.charAt(0).toUpperCase();
  const base = /[A-Z]/.test(first) ? first + name.slice(1) : `X${name}`;
  return CLAUDE_TOOL_NAME_PREFIX + base;
}

/**
 * Names of tools with a `type` of their own (server tools such as web_search,
 * Anthropic-defined client tools such as bash_20250124): their names are
 * fixed by Anthropic and must not be renamed.
 */
function typedToolNames(body: JsonObject): Set<string> {
  const names = new Set<string>();
  for (const tool of Array.isArray(body["tools"]) ? body["tools"] : []) {
    if (isObject(tool) && typeof tool["name"] === "string") {
      const type = tool["type"];
      if (typeof type === "string" && type !== "custom") names.add(tool["name"]);
    }
  }
  return names;
}

/** Every client tool name in the request, in order of first appearance. */
function clientToolNames(body: JsonObject, typed: Set<string>): string[] {
  const names: string[] = [];
  const add = (name: unknown) => {
    if (typeof name === "string" && !typed.has(name)) names.push(name);
  };
  for (const tool of Array.isArray(body["tools"]) ? body["tools"] : []) {
    if (isObject(tool)) add(tool["name"]);
  }
  const choice = body["tool_choice"];
  if (isObject(choice) && choice["type"] === "tool") add(choice["name"]);
  for (const message of Array.isArray(body["messages"]) ? body["messages"] : []) {
    const content = isObject(message) ? message["content"] : undefined;
    for (const block of Array.isArray(content) ? content : []) {
      if (isObject(block) && block["type"] === "tool_use") add(block["name"]);
    }
  }
  return names;
}

/** Builds the mapping; two client names that would collide get `_2`, `_3`, ... */
export function buildToolNameMap(body: JsonObject): ToolNameMap {
  const typed = typedToolNames(body);
  const up = new Map<string, string>();
  const down = new Map<string, string>();
  for (const name of clientToolNames(body, typed)) {
    if (up.has(name)) continue;
    const base = upstreamToolName(name);
    let candidate = base;
    for (let n = 2; down.has(candidate) || typed.has(candidate); n++) candidate = `${base}_${n}`;
    up.set(name, candidate);
    down.set(candidate, name);
  }
  return { up, down };
}

/** Renames tools[].name, tool_choice.name and every tool_use block (a new body; input untouched). */
export function renameToolsUp(body: JsonObject, map: ToolNameMap): JsonObject {
  if (map.up.size === 0) return body;
  const rename = (name: unknown) => typeof name === "string" ? map.up.get(name) ?? name : name;
  const out: JsonObject = { ...body };
  if (Array.isArray(body["tools"])) {
    out["tools"] = body["tools"].map((tool) => {
      if (!isObject(tool)) return tool;
      const type = tool["type"];
      if (typeof type === "string" && type !== "custom") return tool;
      return { ...tool, name: rename(tool["name"]) };
    });
  }
  const choice = body["tool_choice"];
  if (isObject(choice) && choice["type"] === "tool") {
    out["tool_choice"] = { ...choice, name: rename(choice["name"]) };
  }
  if (Array.isArray(body["messages"])) {
    out["messages"] = body["messages"].map((message) => {
      if (!isObject(message) || !Array.isArray(message["content"])) return message;
      if (!message["content"].some((b) => isObject(b) && b["type"] === "tool_use")) return message;
      return {
        ...message,
        content: message["content"].map((block) =>
          isObject(block) && block["type"] === "tool_use"
            ? { ...block, name: rename(block["name"]) }
            : block
        ),
      };
    });
  }
  return out;
}

function renameBlockDown(block: unknown, map: ToolNameMap): boolean {
  if (!isObject(block) || block["type"] !== "tool_use" || typeof block["name"] !== "string") {
    return false;
  }
  const original = map.down.get(block["name"]);
  if (original === undefined) return false;
  block["name"] = original;
  return true;
}

/** Reverses the renaming in answers: JSON content blocks and stream content_block_start events. */
export function toolNameRewriter(map: ToolNameMap): AnswerRewriter {
  return {
    json(body: unknown): unknown | undefined {
      if (!isObject(body) || !Array.isArray(body["content"])) return undefined;
      let changed = false;
      for (const block of body["content"]) changed = renameBlockDown(block, map) || changed;
      return changed ? body : undefined;
    },
    marker: "content_block_start",
    event(event: SseEvent): string | undefined {
      const data = event.data;
      if (data === null || data.indexOf("content_block_start") < 0) return undefined;
      if (data.indexOf("tool_use") < 0) return undefined;
      const parsed = parseJsonObject(data);
      if (parsed?.["type"] !== "content_block_start") return undefined;
      if (!renameBlockDown(parsed["content_block"], map)) return undefined;
      return encodeEvent(JSON.stringify(parsed), event.event ?? "content_block_start");
    },
  };
}

/**
 * Request fields the two OpenAI APIs (Chat Completions, Responses) share up
 * to nesting: function tools, tool choice, answer format, reasoning effort.
 */
import { badRequest } from "../errors.ts";
import {
  type NeutralTool,
  type ReasoningEffort,
  type ResponseFormat,
  type ToolChoice,
  untranslatable,
} from "./neutral.ts";
import { arr, expectObject, expectString, obj, str } from "./util.ts";

const EFFORTS = new Set(["none", "minimal", "low", "medium", "high", "xhigh"]);

/**
 * Function tools: Chat nests the definition under `function`, Responses
 * has it flat; other tool types have no equivalent elsewhere.
 */
export function readFunctionTools(list: unknown): NeutralTool[] {
  return arr(list).map((raw, i) => {
    const tool = expectObject(raw, `tools[${i}]`);
    if (tool["type"] !== "function") {
      throw untranslatable(
        `tools[${i}].type`,
        `"${String(tool["type"])}" cannot be translated for this model.`,
      );
    }
    const nested = obj(tool["function"]);
    const fn = nested ?? tool;
    const at = nested ? `tools[${i}].function` : `tools[${i}]`;
    const out: NeutralTool = {
      name: expectString(fn["name"], `${at}.name`),
      parameters: obj(fn["parameters"]) ?? { type: "object", properties: {} },
    };
    const description = str(fn["description"]);
    if (description !== undefined) out.description = description;
    if (typeof fn["strict"] === "boolean") out.strict = fn["strict"];
    return out;
  });
}

/** `auto` / `none` / `required`, or one function (`function.name` in Chat, `name` in Responses). */
export function readToolChoice(v: unknown): ToolChoice | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === "auto" || v === "none" || v === "required") return v;
  const choice = obj(v);
  const name = str(choice?.["name"]) ?? str(obj(choice?.["function"])?.["name"]);
  if (choice?.["type"] === "function" && name !== undefined) return { name };
  throw untranslatable("tool_choice", "must be auto, none, required or a function.");
}

export function readResponseFormat(v: unknown, field: string): ResponseFormat | undefined {
  const format = obj(v);
  if (!format || format["type"] === "text") return undefined;
  if (format["type"] === "json_object") return { type: "json_object" };
  if (format["type"] === "json_schema") {
    // Chat nests the schema under json_schema; Responses' text.format is flat.
    const spec = obj(format["json_schema"]) ?? format;
    const schema = obj(spec["schema"]);
    if (!schema) throw badRequest("invalid_request", `"${field}.schema" must be an object.`);
    const out: ResponseFormat = {
      type: "json_schema",
      name: str(spec["name"]) ?? "response",
      schema,
    };
    if (typeof spec["strict"] === "boolean") out.strict = spec["strict"];
    const description = str(spec["description"]);
    if (description !== undefined) out.description = description;
    return out;
  }
  throw untranslatable(`${field}.type`, `"${String(format["type"])}" cannot be translated.`);
}

export function readEffort(v: unknown, field: string): ReasoningEffort | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string" && EFFORTS.has(v)) return v as ReasoningEffort;
  throw badRequest("invalid_request", `"${field}" must be one of ${[...EFFORTS].join(", ")}.`);
}

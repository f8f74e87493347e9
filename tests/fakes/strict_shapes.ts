/**
 * Request shapes the real backends accept, checked field by field: an
 * unknown field, an item of the wrong kind, a tool result that answers no
 * call are refused as the real APIs refuse them (Codex: 400 `{"detail"}`
 * naming the parameter; Anthropic and OpenAI: 400 invalid_request_error).
 * Each check returns the error message, or undefined when the body is fine.
 *
 * The allowlists hold what the real clients send (Codex CLI, OpenCode's AI
 * SDK providers, Claude Code, the openai and anthropic SDKs), nothing more:
 * a Kleis translation that leaks a field of another API fails here.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

function unknownKey(o: Obj, allowed: ReadonlySet<string>): string | undefined {
  return Object.keys(o).find((k) => !allowed.has(k));
}

const set = (...keys: string[]) => new Set(keys);

// ---------------------------------------------------------------- Responses

const RESPONSES_FIELDS = set(
  "model",
  "instructions",
  "input",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "reasoning",
  "store",
  "stream",
  "include",
  "prompt_cache_key",
  "text",
  "service_tier",
  "metadata",
  "user",
  "truncation",
  "max_output_tokens",
  "temperature",
  "top_p",
  "safety_identifier",
  "max_tool_calls",
  "top_logprobs",
  "previous_response_id",
  "background",
  "stream_options",
  "client_metadata",
);
const RESPONSES_ITEM_FIELDS: Record<string, ReadonlySet<string>> = {
  message: set("type", "role", "content", "id", "status"),
  function_call: set("type", "call_id", "name", "arguments", "id", "status"),
  function_call_output: set("type", "call_id", "output", "id", "status"),
  custom_tool_call: set("type", "call_id", "name", "input", "id", "status"),
  custom_tool_call_output: set("type", "call_id", "output", "id", "status"),
  reasoning: set("type", "id", "summary", "encrypted_content", "content", "status"),
  item_reference: set("type", "id"),
};
const RESPONSES_PART_FIELDS: Record<string, ReadonlySet<string>> = {
  input_text: set("type", "text"),
  output_text: set("type", "text", "annotations", "logprobs"),
  refusal: set("type", "refusal"),
  input_image: set("type", "image_url", "file_id", "detail"),
  input_file: set("type", "file_id", "file_data", "file_url", "filename"),
};
const RESPONSES_FUNCTION_TOOL = set("type", "name", "description", "parameters", "strict");

function responsesParts(content: unknown, at: string): string | undefined {
  if (typeof content === "string") return undefined;
  if (!Array.isArray(content)) return `${at}.content must be a string or a list`;
  for (const [j, part] of content.entries()) {
    if (!isObj(part)) return `${at}.content[${j}] must be an object`;
    const allowed = RESPONSES_PART_FIELDS[String(part["type"])];
    if (!allowed) return `Invalid value for ${at}.content[${j}].type: ${String(part["type"])}`;
    const bad = unknownKey(part, allowed);
    if (bad) return `Unknown parameter: ${at}.content[${j}].${bad}`;
  }
  return undefined;
}

/** OpenAI's reasoning effort levels (Responses `reasoning.effort`, Chat `reasoning_effort`). */
export const REASONING_EFFORTS: ReadonlySet<string> = set(
  "none",
  "minimal",
  "low",
  "medium",
  "high",
  "xhigh",
);
const REASONING_FIELDS = set("effort", "summary", "generate_summary");

/** OpenAI's answer to an effort level it does not know (absent and null are fine). */
function unknownEffort(effort: unknown): string | undefined {
  if (effort === undefined || effort === null || REASONING_EFFORTS.has(String(effort))) {
    return undefined;
  }
  return `Invalid value: '${String(effort)}'. Supported values are: ${
    [...REASONING_EFFORTS].map((e) => `'${e}'`).join(", ")
  }.`;
}
const REASONING_SUMMARIES = set("auto", "concise", "detailed");

/** The `reasoning` object of a Responses body. */
function responsesReasoning(reasoning: unknown): string | undefined {
  if (reasoning === undefined || reasoning === null) return undefined;
  if (!isObj(reasoning)) return "Invalid type for 'reasoning': expected an object.";
  const extra = unknownKey(reasoning, REASONING_FIELDS);
  if (extra) return `Unknown parameter: 'reasoning.${extra}'.`;
  const effort = reasoning["effort"];
  const effortError = unknownEffort(effort);
  if (effortError) return effortError;
  const summary = reasoning["summary"];
  if (summary !== undefined && summary !== null && !REASONING_SUMMARIES.has(String(summary))) {
    return `Invalid value for 'reasoning.summary': '${String(summary)}'.`;
  }
  return undefined;
}

/** The Responses body rules shared by Codex and Copilot's /responses. */
export function checkResponsesBody(body: Obj): string | undefined {
  const bad = unknownKey(body, RESPONSES_FIELDS);
  if (bad) return `Unsupported parameter: ${bad}`;
  const reasoningError = responsesReasoning(body["reasoning"]);
  if (reasoningError) return reasoningError;
  const calls = new Set<string>();
  const input = body["input"];
  for (const [i, item] of (Array.isArray(input) ? input : []).entries()) {
    if (!isObj(item)) return `input[${i}] must be an object`;
    const type = String(item["type"] ?? "message");
    const allowed = RESPONSES_ITEM_FIELDS[type];
    if (!allowed) return `Invalid value for input[${i}].type: ${type}`;
    const extra = unknownKey(item, allowed);
    if (extra) return `Unknown parameter: input[${i}].${extra}`;
    if (type === "message") {
      if (!["user", "assistant", "system", "developer"].includes(String(item["role"]))) {
        return `Invalid value for input[${i}].role`;
      }
      const partsError = responsesParts(item["content"], `input[${i}]`);
      if (partsError) return partsError;
    } else if (type === "function_call") {
      if (typeof item["call_id"] !== "string" || typeof item["name"] !== "string") {
        return `input[${i}]: function_call needs call_id and name`;
      }
      if (typeof item["arguments"] !== "string") return `input[${i}].arguments must be a string`;
      calls.add(item["call_id"]);
    } else if (type === "custom_tool_call") {
      calls.add(String(item["call_id"]));
    } else if (type === "function_call_output" || type === "custom_tool_call_output") {
      if (!calls.has(String(item["call_id"]))) {
        return `No tool call found for function call output with call_id ${
          String(item["call_id"])
        }.`;
      }
      const output = item["output"];
      if (typeof output !== "string") {
        const partsError = responsesParts(output, `input[${i}].output`);
        if (partsError) return partsError;
      }
    }
  }
  for (const [i, tool] of (Array.isArray(body["tools"]) ? body["tools"] : []).entries()) {
    if (!isObj(tool)) return `tools[${i}] must be an object`;
    if (tool["type"] === "function") {
      const extra = unknownKey(tool, RESPONSES_FUNCTION_TOOL);
      if (extra) return `Unknown parameter: tools[${i}].${extra}`;
      if (typeof tool["name"] !== "string") return `Missing required parameter: tools[${i}].name`;
    }
  }
  const format = isObj(body["text"]) ? body["text"]["format"] : undefined;
  if (isObj(format) && format["type"] === "json_schema") {
    if (typeof format["name"] !== "string" || !isObj(format["schema"])) {
      return "Missing required parameter: text.format.name / text.format.schema";
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- Anthropic Messages

const MESSAGES_FIELDS = set(
  "model",
  "messages",
  "system",
  "max_tokens",
  "metadata",
  "stop_sequences",
  "stream",
  "temperature",
  "top_p",
  "top_k",
  "tools",
  "tool_choice",
  "thinking",
  "service_tier",
  "context_management",
  "output_config",
  "container",
  "mcp_servers",
);
const BLOCK_FIELDS: Record<string, ReadonlySet<string>> = {
  text: set("type", "text", "cache_control", "citations"),
  image: set("type", "source", "cache_control"),
  document: set("type", "source", "cache_control", "title", "context", "citations"),
  tool_use: set("type", "id", "name", "input", "cache_control"),
  tool_result: set("type", "tool_use_id", "content", "is_error", "cache_control"),
  thinking: set("type", "thinking", "signature"),
  redacted_thinking: set("type", "data"),
};
const CUSTOM_TOOL_FIELDS = set(
  "name",
  "description",
  "input_schema",
  "cache_control",
  "type",
  "eager_input_streaming",
  "defer_loading",
);
const TOOL_ID = /^[a-zA-Z0-9_-]+$/;

function anthropicBlocks(content: unknown, at: string): Obj[] | string {
  if (typeof content === "string") return [{ type: "text", text: content }];
  if (!Array.isArray(content)) return `${at}.content: Input should be a valid list`;
  for (const [j, block] of content.entries()) {
    if (!isObj(block)) return `${at}.content.${j}: Input should be an object`;
    const allowed = BLOCK_FIELDS[String(block["type"])];
    if (!allowed) {
      return `${at}.content.${j}.type: Input tag '${String(block["type"])}' is not valid`;
    }
    const extra = unknownKey(block, allowed);
    if (extra) return `${at}.content.${j}.${extra}: Extra inputs are not permitted`;
    if (block["type"] === "text" && block["text"] === "") {
      return `${at}.content.${j}: text content blocks must be non-empty`;
    }
  }
  return content as Obj[];
}

/** The Messages body rules shared by Anthropic and Copilot's /v1/messages. */
export function checkMessagesBody(body: Obj, countTokens = false): string | undefined {
  const bad = unknownKey(body, MESSAGES_FIELDS);
  if (bad) return `${bad}: Extra inputs are not permitted`;
  if (!countTokens && typeof body["max_tokens"] !== "number") return "max_tokens: Field required";
  const messages = body["messages"];
  if (!Array.isArray(messages)) return "messages: Field required";
  let previousUses = new Set<string>();
  for (const [i, m] of messages.entries()) {
    if (!isObj(m)) return `messages.${i}: Input should be an object`;
    // Claude Code sets output_config on some turns.
    const extra = unknownKey(m, set("role", "content", "output_config"));
    if (extra) return `messages.${i}.${extra}: Extra inputs are not permitted`;
    // Claude Code sends system-role messages (its environment block) among the turns.
    if (m["role"] !== "user" && m["role"] !== "assistant" && m["role"] !== "system") {
      return `messages.${i}.role: invalid role`;
    }
    if (m["role"] === "system") continue; // between a tool_use and its result too
    const blocks = anthropicBlocks(m["content"], `messages.${i}`);
    if (typeof blocks === "string") return blocks;
    const uses = new Set<string>();
    for (const block of blocks) {
      if (block["type"] === "tool_use") {
        if (m["role"] !== "assistant") {
          return `messages.${i}: tool_use blocks belong to assistant turns`;
        }
        if (typeof block["id"] !== "string" || !TOOL_ID.test(block["id"])) {
          return `messages.${i}: tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'`;
        }
        if (!isObj(block["input"])) {
          return `messages.${i}: tool_use.input: Input should be an object`;
        }
        uses.add(block["id"]);
      }
      if (block["type"] === "tool_result" && !previousUses.has(String(block["tool_use_id"]))) {
        return `messages.${i}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ` +
          `${String(block["tool_use_id"])}. Each \`tool_result\` block must have a corresponding ` +
          "`tool_use` block in the previous message.";
      }
    }
    previousUses = uses;
  }
  for (const [i, tool] of (Array.isArray(body["tools"]) ? body["tools"] : []).entries()) {
    if (!isObj(tool)) return `tools.${i}: Input should be an object`;
    if (tool["type"] !== undefined && tool["type"] !== "custom") continue;
    const extra = unknownKey(tool, CUSTOM_TOOL_FIELDS);
    if (extra) return `tools.${i}.${extra}: Extra inputs are not permitted`;
    if (!isObj(tool["input_schema"])) return `tools.${i}.input_schema: Field required`;
  }
  return messagesThinking(body, countTokens);
}

/** Claude Code sends `{type: "adaptive", display: "omitted"}`; `display` is Anthropic's too. */
const THINKING_FIELDS: Record<string, ReadonlySet<string>> = {
  enabled: set("type", "budget_tokens", "display"),
  adaptive: set("type", "display"),
  disabled: set("type"),
};

/** The `thinking` field: `{type: "enabled", budget_tokens}`, `{type: "disabled"}` or adaptive. */
function messagesThinking(body: Obj, countTokens: boolean): string | undefined {
  const thinking = body["thinking"];
  if (thinking === undefined) return undefined;
  if (!isObj(thinking)) return "thinking: Input should be an object";
  const type = thinking["type"];
  const fields = THINKING_FIELDS[String(type)];
  if (!fields) {
    return `thinking: Input tag '${String(type)}' found using 'type' does not match any of ` +
      "the expected tags: 'disabled', 'enabled', 'adaptive'";
  }
  const extra = unknownKey(thinking, fields);
  if (extra) return `thinking.${String(type)}.${extra}: Extra inputs are not permitted`;
  const display = thinking["display"];
  if (display !== undefined && display !== "summarized" && display !== "omitted") {
    return `thinking.${String(type)}.display: Input should be 'summarized' or 'omitted'`;
  }
  if (type !== "enabled") return undefined;
  const budget = thinking["budget_tokens"];
  if (typeof budget !== "number" || !Number.isInteger(budget)) {
    return "thinking.enabled.budget_tokens: Input should be a valid integer";
  }
  if (budget < 1024) {
    return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024";
  }
  if (!countTokens && budget >= Number(body["max_tokens"])) {
    return "`max_tokens` must be greater than `thinking.budget_tokens` (at least 1024)";
  }
  if (body["temperature"] !== undefined && body["temperature"] !== 1) {
    return "`temperature` may only be set to 1 when thinking is enabled";
  }
  if (body["top_k"] !== undefined) return "`top_k` is not compatible with thinking";
  const topP = body["top_p"];
  if (topP !== undefined && !(typeof topP === "number" && topP >= 0.95 && topP <= 1)) {
    return "`top_p` must be between 0.95 and 1 when thinking is enabled";
  }
  const choice = isObj(body["tool_choice"]) ? body["tool_choice"]["type"] : undefined;
  if (choice === "any" || choice === "tool") {
    return "Thinking may not be enabled when tool_choice forces tool use.";
  }
  return undefined;
}

// ---------------------------------------------------------------- Chat Completions

const CHAT_FIELDS = set(
  "model",
  "messages",
  "stream",
  "stream_options",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "n",
  "stop",
  "response_format",
  "reasoning_effort",
  "seed",
  "user",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "logprobs",
  "top_logprobs",
  "prediction",
  "metadata",
  "store",
  "service_tier",
  "intent",
  "prompt_cache_key",
  "verbosity",
  "modalities",
  "audio",
);
const CHAT_MESSAGE_FIELDS: Record<string, ReadonlySet<string>> = {
  system: set("role", "content", "name"),
  developer: set("role", "content", "name"),
  user: set("role", "content", "name"),
  assistant: set(
    "role",
    "content",
    "name",
    "tool_calls",
    "refusal",
    "audio",
    "reasoning_text",
    "reasoning_opaque",
  ),
  tool: set("role", "content", "tool_call_id"),
};
const CHAT_PART_FIELDS: Record<string, ReadonlySet<string>> = {
  text: set("type", "text"),
  image_url: set("type", "image_url"),
  input_audio: set("type", "input_audio"),
  file: set("type", "file"),
  refusal: set("type", "refusal"),
};

/** The Chat Completions body rules (Copilot's /chat/completions). */
export function checkChatBody(body: Obj): string | undefined {
  const bad = unknownKey(body, CHAT_FIELDS);
  if (bad) return `Unrecognized request argument supplied: ${bad}`;
  const effort = body["reasoning_effort"];
  const effortError = unknownEffort(effort);
  if (effortError) return effortError;
  const messages = body["messages"];
  if (!Array.isArray(messages)) return "Missing required parameter: 'messages'.";
  let open = new Set<string>();
  for (const [i, m] of messages.entries()) {
    if (!isObj(m)) return `Invalid type for 'messages[${i}]'.`;
    const allowed = CHAT_MESSAGE_FIELDS[String(m["role"])];
    if (!allowed) {
      return `Invalid value: '${
        String(m["role"])
      }'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.`;
    }
    const extra = unknownKey(m, allowed);
    if (extra) return `Unrecognized request argument supplied: messages[${i}].${extra}`;
    if (Array.isArray(m["content"])) {
      for (const [j, part] of m["content"].entries()) {
        const fields = isObj(part) ? CHAT_PART_FIELDS[String(part["type"])] : undefined;
        if (!fields) return `Invalid value: 'messages[${i}].content[${j}].type'.`;
        const partExtra = unknownKey(part as Obj, fields);
        if (partExtra) {
          return `Unrecognized request argument supplied: messages[${i}].content[${j}].${partExtra}`;
        }
      }
    }
    if (m["role"] === "tool") {
      if (!open.has(String(m["tool_call_id"]))) {
        return `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`;
      }
      continue;
    }
    open = new Set();
    if (m["role"] === "assistant") {
      for (const call of Array.isArray(m["tool_calls"]) ? m["tool_calls"] : []) {
        if (!isObj(call) || typeof call["id"] !== "string" || !isObj(call["function"])) {
          return `Invalid 'messages[${i}].tool_calls'.`;
        }
        open.add(call["id"]);
      }
    }
  }
  for (const [i, tool] of (Array.isArray(body["tools"]) ? body["tools"] : []).entries()) {
    if (!isObj(tool) || tool["type"] !== "function" || !isObj(tool["function"])) {
      return `Invalid 'tools[${i}]': expected a function tool.`;
    }
    const extra = unknownKey(tool, set("type", "function"));
    if (extra) return `Unrecognized request argument supplied: tools[${i}].${extra}`;
    const fnExtra = unknownKey(
      tool["function"],
      set("name", "description", "parameters", "strict"),
    );
    if (fnExtra) return `Unrecognized request argument supplied: tools[${i}].function.${fnExtra}`;
  }
  return undefined;
}

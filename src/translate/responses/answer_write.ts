/**
 * The neutral answer written for a Responses client: the `response` object,
 * or the event sequence the OpenAI SDK's stream parser expects
 * (created, output_item.added, content_part.added, output_text.delta, ...,
 * output_item.done, completed), with sequence numbers.
 */
import { encodeEvent } from "../../sse.ts";
import { CUT_SHORT } from "../neutral.ts";
import type {
  FinishReason,
  NeutralAnswer,
  NeutralEvent,
  NeutralUsage,
  StreamEncoder,
} from "../neutral.ts";
import { type JsonObject, newId } from "../util.ts";

export function responsesUsageOut(u: NeutralUsage): JsonObject {
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cacheRead },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning },
    total_tokens: u.input + u.output,
  };
}

function status(finish: FinishReason): { status: string; incomplete_details: unknown } {
  if (finish === "length") {
    return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  }
  if (finish === "content_filter") {
    return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  }
  return { status: "completed", incomplete_details: null };
}

function responseObject(
  id: string,
  model: string,
  created: number,
  output: unknown[],
  finish: FinishReason | undefined,
  usage: NeutralUsage | undefined,
): JsonObject {
  return {
    id,
    object: "response",
    created_at: created,
    ...(finish === undefined
      ? { status: "in_progress", incomplete_details: null }
      : status(finish)),
    model,
    output,
    usage: usage ? responsesUsageOut(usage) : null,
    error: null,
  };
}

const reasoningItem = (id: string, text: string) => ({
  id,
  type: "reasoning",
  summary: text === "" ? [] : [{ type: "summary_text", text }],
});
const messageItem = (id: string, text: string, refusal: string, done: boolean) => ({
  id,
  type: "message",
  status: done ? "completed" : "in_progress",
  role: "assistant",
  content: done
    ? [
      ...(refusal === "" ? [] : [{ type: "refusal", refusal }]),
      ...(text === "" && refusal !== "" ? [] : [{ type: "output_text", text, annotations: [] }]),
    ]
    : [],
});
const callItem = (id: string, callId: string, name: string, args: string, done: boolean) => ({
  id,
  type: "function_call",
  status: done ? "completed" : "in_progress",
  call_id: callId,
  name,
  arguments: args,
});

export function writeResponsesAnswer(a: NeutralAnswer, model: string): JsonObject {
  const output: unknown[] = [];
  if (a.reasoning !== "") output.push(reasoningItem(newId("rs_"), a.reasoning));
  if (a.text !== "" || a.refusal !== "" || a.toolCalls.length === 0) {
    output.push(messageItem(newId("msg_"), a.text, a.refusal, true));
  }
  for (const c of a.toolCalls) output.push(callItem(newId("fc_"), c.id, c.name, c.arguments, true));
  const id = a.id.startsWith("resp_") ? a.id : `resp_${a.id}`;
  return responseObject(id, model, a.created, output, a.finish, a.usage);
}

type Open =
  | { kind: "message"; id: string; index: number; text: string; refusal: string }
  | { kind: "reasoning"; id: string; index: number; text: string }
  | { kind: "call"; id: string; index: number; callId: string; name: string; args: string };

export class ResponsesStreamEncoder implements StreamEncoder {
  #seq = 0;
  #id = newId("resp_");
  #created = Math.floor(Date.now() / 1000);
  #output: unknown[] = [];
  /** The open text or reasoning item; calls stay open until the end (their arguments may interleave). */
  #current: Open | undefined;
  #calls = new Map<number, Open & { kind: "call" }>();
  #usage: NeutralUsage | undefined;
  #done = false;
  #started = false;

  constructor(private readonly model: string) {}

  #ev(type: string, data: JsonObject): string {
    return encodeEvent(JSON.stringify({ type, sequence_number: this.#seq++, ...data }), type);
  }

  #start(): string {
    if (this.#started) return "";
    this.#started = true;
    const response = responseObject(this.#id, this.model, this.#created, [], undefined, undefined);
    return this.#ev("response.created", { response }) +
      this.#ev("response.in_progress", { response });
  }

  #close(): string {
    const open = this.#current;
    if (!open) return "";
    this.#current = undefined;
    const at = { item_id: open.id, output_index: open.index };
    if (open.kind === "message") {
      const item = messageItem(open.id, open.text, open.refusal, true);
      this.#output[open.index] = item;
      let out = "";
      if (open.refusal !== "") {
        const part = { type: "refusal", refusal: open.refusal };
        out +=
          this.#ev("response.refusal.done", { ...at, content_index: 0, refusal: open.refusal }) +
          this.#ev("response.content_part.done", { ...at, content_index: 0, part });
      } else {
        const part = { type: "output_text", text: open.text, annotations: [] };
        out += this.#ev("response.output_text.done", { ...at, content_index: 0, text: open.text }) +
          this.#ev("response.content_part.done", { ...at, content_index: 0, part });
      }
      return out + this.#ev("response.output_item.done", { output_index: open.index, item });
    }
    if (open.kind === "reasoning") {
      const item = reasoningItem(open.id, open.text);
      this.#output[open.index] = item;
      const part = { type: "summary_text", text: open.text };
      return this.#ev("response.reasoning_summary_text.done", {
        ...at,
        summary_index: 0,
        text: open.text,
      }) +
        this.#ev("response.reasoning_summary_part.done", { ...at, summary_index: 0, part }) +
        this.#ev("response.output_item.done", { output_index: open.index, item });
    }
    return "";
  }

  #closeCall(call: Open & { kind: "call" }): string {
    const item = callItem(call.id, call.callId, call.name, call.args, true);
    this.#output[call.index] = item;
    return this.#ev("response.function_call_arguments.done", {
      item_id: call.id,
      output_index: call.index,
      arguments: call.args,
    }) + this.#ev("response.output_item.done", { output_index: call.index, item });
  }

  #open(kind: "message" | "reasoning", refusal: boolean): string {
    if (this.#current?.kind === kind) return "";
    let out = this.#close();
    const index = this.#output.length;
    if (kind === "message") {
      const id = newId("msg_");
      this.#current = { kind, id, index, text: "", refusal: "" };
      const item = messageItem(id, "", "", false);
      this.#output.push(item);
      const part = refusal
        ? { type: "refusal", refusal: "" }
        : { type: "output_text", text: "", annotations: [] };
      out += this.#ev("response.output_item.added", { output_index: index, item }) +
        this.#ev("response.content_part.added", {
          item_id: id,
          output_index: index,
          content_index: 0,
          part,
        });
    } else {
      const id = newId("rs_");
      this.#current = { kind, id, index, text: "" };
      const item = reasoningItem(id, "");
      this.#output.push(item);
      out += this.#ev("response.output_item.added", { output_index: index, item }) +
        this.#ev("response.reasoning_summary_part.added", {
          item_id: id,
          output_index: index,
          summary_index: 0,
          part: { type: "summary_text", text: "" },
        });
    }
    return out;
  }

  push(e: NeutralEvent): string {
    if (this.#done) return "";
    switch (e.type) {
      case "start":
        this.#id = e.id.startsWith("resp_") ? e.id : `resp_${e.id}`;
        this.#created = e.created;
        return this.#start();
      case "text": {
        const out = this.#start() + this.#open("message", false);
        const open = this.#current as Open & { kind: "message" };
        open.text += e.delta;
        return out + this.#ev("response.output_text.delta", {
          item_id: open.id,
          output_index: open.index,
          content_index: 0,
          delta: e.delta,
        });
      }
      case "refusal": {
        const out = this.#start() + this.#open("message", true);
        const open = this.#current as Open & { kind: "message" };
        open.refusal += e.delta;
        return out + this.#ev("response.refusal.delta", {
          item_id: open.id,
          output_index: open.index,
          content_index: 0,
          delta: e.delta,
        });
      }
      case "reasoning": {
        const out = this.#start() + this.#open("reasoning", false);
        const open = this.#current as Open & { kind: "reasoning" };
        open.text += e.delta;
        return out + this.#ev("response.reasoning_summary_text.delta", {
          item_id: open.id,
          output_index: open.index,
          summary_index: 0,
          delta: e.delta,
        });
      }
      case "tool_start": {
        const out = this.#start() + this.#close();
        const call = {
          kind: "call" as const,
          id: newId("fc_"),
          index: this.#output.length,
          callId: e.id,
          name: e.name,
          args: "",
        };
        this.#calls.set(e.index, call);
        const item = callItem(call.id, call.callId, call.name, "", false);
        this.#output.push(item);
        return out + this.#ev("response.output_item.added", { output_index: call.index, item });
      }
      case "tool_args": {
        const call = this.#calls.get(e.index);
        if (!call) return "";
        call.args += e.delta;
        return this.#ev("response.function_call_arguments.delta", {
          item_id: call.id,
          output_index: call.index,
          delta: e.delta,
        });
      }
      case "usage":
        this.#usage = e.usage;
        return "";
      case "finish": {
        this.#done = true;
        let out = this.#start() + this.#close();
        for (const call of this.#calls.values()) out += this.#closeCall(call);
        const response = responseObject(
          this.#id,
          this.model,
          this.#created,
          this.#output,
          e.finish,
          this.#usage,
        );
        const type = response["status"] === "completed"
          ? "response.completed"
          : "response.incomplete";
        return out + this.#ev(type, { response });
      }
      case "error":
        this.#done = true;
        return this.#ev("error", { code: e.errorType, message: e.message, param: null });
    }
  }

  end(): string {
    return this.fail(CUT_SHORT.code, CUT_SHORT.message);
  }

  fail(code: string, message: string): string {
    if (this.#done) return "";
    this.#done = true;
    return this.#ev("error", { code, message, param: null });
  }
}

/**
 * Neutral-to-neutral steps for what a backend's API cannot do itself:
 *
 * - StopFilter: stop sequences for backends without `stop` (Responses).
 *   Text is held back only as long as it could be the start of a stop
 *   sequence; at a match the text is cut and the rest of the answer dropped
 *   (the finish reason becomes "stop").
 * - JsonToolFilter: the forced tool that carries a JSON schema answer on
 *   Anthropic backends becomes answer text again.
 */
import type { NeutralAnswer, NeutralEvent } from "./neutral.ts";

export interface EventFilter {
  push(event: NeutralEvent): NeutralEvent[];
  answer(answer: NeutralAnswer): NeutralAnswer;
}

export class StopFilter implements EventFilter {
  #pending = "";
  #stopped = false;
  readonly #keep: number;

  constructor(private readonly stops: readonly string[]) {
    this.#keep = Math.max(0, ...stops.map((s) => s.length - 1));
  }

  #cut(text: string): number {
    let at = -1;
    for (const stop of this.stops) {
      const i = stop === "" ? -1 : text.indexOf(stop);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    return at;
  }

  push(e: NeutralEvent): NeutralEvent[] {
    if (e.type === "text") {
      if (this.#stopped) return [];
      const text = this.#pending + e.delta;
      const at = this.#cut(text);
      if (at >= 0) {
        this.#stopped = true;
        this.#pending = "";
        return at > 0 ? [{ type: "text", delta: text.slice(0, at) }] : [];
      }
      const send = text.slice(0, Math.max(0, text.length - this.#keep));
      this.#pending = text.slice(send.length);
      return send === "" ? [] : [{ type: "text", delta: send }];
    }
    const out: NeutralEvent[] = [];
    if (this.#pending !== "" && !this.#stopped) out.push({ type: "text", delta: this.#pending });
    this.#pending = "";
    if (this.#stopped) {
      // After a stop nothing of the answer goes out; usage and the end still do.
      if (e.type === "finish") out.push({ type: "finish", finish: "stop" });
      else if (e.type === "usage" || e.type === "error" || e.type === "start") out.push(e);
      return out;
    }
    out.push(e);
    return out;
  }

  answer(a: NeutralAnswer): NeutralAnswer {
    const at = this.#cut(a.text);
    return at < 0 ? a : { ...a, text: a.text.slice(0, at), toolCalls: [], finish: "stop" };
  }
}

export class JsonToolFilter implements EventFilter {
  #index: number | undefined;

  constructor(private readonly tool: string) {}

  push(e: NeutralEvent): NeutralEvent[] {
    if (e.type === "tool_start" && e.name === this.tool) {
      this.#index = e.index;
      return [];
    }
    if (e.type === "tool_args" && e.index === this.#index) {
      return [{ type: "text", delta: e.delta }];
    }
    if (e.type === "finish" && e.finish === "tool_calls" && this.#index !== undefined) {
      return [{ type: "finish", finish: "stop" }];
    }
    return [e];
  }

  answer(a: NeutralAnswer): NeutralAnswer {
    const call = a.toolCalls.find((c) => c.name === this.tool);
    if (!call) return a;
    return {
      ...a,
      text: a.text + call.arguments,
      toolCalls: a.toolCalls.filter((c) => c !== call),
      finish: a.finish === "tool_calls" ? "stop" : a.finish,
    };
  }
}

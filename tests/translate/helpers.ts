/** Helpers for the translation tests: run decoders and encoders over event lists. */
import type { NeutralEvent, StreamDecoder, StreamEncoder } from "../../src/translate/neutral.ts";
import { SseFramer } from "../../src/sse.ts";

/** Feeds backend events (objects become `data:` JSON) to a decoder, then ends it. */
export function decodeAll(decoder: StreamDecoder, events: (object | string)[]): NeutralEvent[] {
  const out: NeutralEvent[] = [];
  for (const e of events) {
    out.push(...decoder.push(typeof e === "string" ? e : JSON.stringify(e), undefined));
  }
  out.push(...decoder.end());
  return out;
}

/** Encodes neutral events and parses the SSE text back: [{event?, data}]. */
export function encodeAll(
  encoder: StreamEncoder,
  events: NeutralEvent[],
  end = false,
): { event?: string; data: unknown }[] {
  let text = "";
  for (const e of events) text += encoder.push(e);
  if (end) text += encoder.end();
  const framer = new SseFramer();
  return [...framer.pushText(text), ...framer.flush()].filter((e) => e.data !== null).map((e) => {
    let data: unknown = e.data;
    try {
      data = JSON.parse(e.data!);
    } catch {
      // "[DONE]"
    }
    return e.event === undefined ? { data } : { event: e.event, data };
  });
}

export const usage = { input: 120, cacheRead: 100, cacheWrite: 7, output: 30, reasoning: 12 };

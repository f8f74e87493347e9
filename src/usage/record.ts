// PLACEHOLDER until the analytics area (issue 6) replaces it.
import type { Deps } from "../deps.ts";
import type { UsageEvent } from "./types.ts";

/** Records one finished request. Never throws: usage must not fail a request. */
export async function recordUsage(deps: Deps, event: UsageEvent): Promise<void> {
  deps.log.info("usage", { ...event });
  await Promise.resolve();
}

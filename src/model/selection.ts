/** How the proxy picks among a provider's accounts (src/proxy/selection.ts). */

export const SELECTION_STRATEGIES = ["fill-first", "round-robin", "least-used"] as const;
export type SelectionStrategy = (typeof SELECTION_STRATEGIES)[number];
export const DEFAULT_SELECTION_STRATEGY: SelectionStrategy = "fill-first";

export function isSelectionStrategy(value: unknown): value is SelectionStrategy {
  return typeof value === "string" && (SELECTION_STRATEGIES as readonly string[]).includes(value);
}

/** What is stored per provider at keys.selectionStrategy(provider). */
export interface SelectionSetting {
  strategy: SelectionStrategy;
  updatedAt: number;
}

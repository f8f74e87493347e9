/** Joins comma lists, keeping the first occurrence of each entry, in order. */
export function mergeCommaLists(...lists: (string | null | undefined)[]): string {
  const seen = new Set<string>();
  for (const list of lists) {
    for (const item of (list ?? "").split(",")) {
      const trimmed = item.trim();
      if (trimmed !== "") seen.add(trimmed);
    }
  }
  return [...seen].join(",");
}

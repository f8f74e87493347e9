/**
 * Reading /metrics in tests: the answer is parsed by an independent
 * Prometheus text-format parser from npm (parse-prometheus-text-format), and
 * the exposition rules the parser does not check (a HELP and a TYPE line
 * before each family's samples, one family per name) are checked here.
 *
 * That parser folds every series of a labelled histogram into one (the
 * labels, sums and counts are lost), so histograms are handed to it as
 * untyped: it then parses each `_bucket`, `_sum` and `_count` line with its
 * labels, and histogram() groups them into series by their labels without `le`.
 */
import assert from "node:assert/strict";
import parsePrometheus from "parse-prometheus-text-format";

export const METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

interface Sample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}

export interface Scrape {
  text: string;
  families: Map<string, Family>;
  /** The value of a counter or gauge series (undefined when the series is absent). */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** A histogram series: cumulative buckets by `le`, count and sum. */
  histogram(
    name: string,
    labels: Record<string, string>,
  ): { buckets: Map<string, number>; count: number; sum: number } | undefined;
  /** Every series of a family. */
  series(name: string): Sample[];
}

const sameLabels = (a: Record<string, string> | undefined, b: Record<string, string>) => {
  const x = a ?? {};
  return Object.keys(x).length === Object.keys(b).length &&
    Object.entries(b).every(([k, v]) => x[k] === v);
};

/** Checks the exposition rules and parses the body. */
export function parseScrape(text: string): Scrape {
  const lines = text.split("\n");
  assert.equal(lines.at(-1), "", "the body ends with a line feed");
  const helped = new Set<string>();
  const typed = new Map<string, string>();
  for (const line of lines.slice(0, -1)) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S/.exec(line);
    if (help) {
      assert.ok(!helped.has(help[1]!), `one HELP line for ${help[1]}`);
      helped.add(help[1]!);
      continue;
    }
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (type) {
      assert.ok(helped.has(type[1]!), `HELP before TYPE for ${type[1]}`);
      typed.set(type[1]!, type[2]!);
      continue;
    }
    assert.ok(!line.startsWith("#"), `no other comment lines: ${line}`);
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1];
    assert.ok(name, `a sample line: ${line}`);
    const family = typed.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    assert.ok(typed.has(family), `TYPE before the samples of ${name}`);
    assert.ok(family.startsWith("kleis_"), `${family} has the kleis_ prefix`);
    if (typed.get(family) === "counter") assert.ok(family.endsWith("_total"), family);
  }
  const families = new Map<string, Family>();
  const untypedHistograms = text.replace(/^(# TYPE \S+) histogram$/gm, "$1 untyped");
  for (const family of parsePrometheus(untypedHistograms) as Family[]) {
    const seen = families.get(family.name);
    // A histogram's series each bring their own _bucket, _sum and _count run.
    if (seen && seen.type === "UNTYPED" && /_(bucket|sum|count)$/.test(family.name)) {
      seen.metrics.push(...family.metrics);
      continue;
    }
    assert.ok(!seen, `one family ${family.name}`);
    families.set(family.name, family);
  }
  const series = (name: string) => families.get(name)?.metrics ?? [];
  return {
    text,
    families,
    series,
    value(name, labels = {}) {
      const found = series(name).find((s) => sameLabels(s.labels, labels));
      return found?.value === undefined ? undefined : Number(found.value);
    },
    histogram(name, labels) {
      if (families.get(name)?.type !== "UNTYPED") return undefined;
      const mine = (s: Sample) => {
        const { le: _, ...rest } = s.labels ?? {};
        return sameLabels(rest, labels);
      };
      const buckets = series(`${name}_bucket`).filter(mine);
      const sum = series(`${name}_sum`).find(mine);
      const count = series(`${name}_count`).find(mine);
      if (buckets.length === 0 && !sum && !count) return undefined;
      assert.ok(sum && count, `${name} series ${JSON.stringify(labels)} has _sum and _count`);
      return {
        buckets: new Map(buckets.map((b) => [b.labels!["le"]!, Number(b.value)])),
        count: Number(count.value),
        sum: Number(sum.value),
      };
    },
  };
}

/** Sum of a family's values over the series whose labels include `labels`. */
export function total(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  return scrape.series(name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))
    .reduce((sum, s) => sum + Number(s.value ?? 0), 0);
}

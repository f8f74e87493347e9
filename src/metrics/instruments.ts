/**
 * The three Prometheus instruments Kleis uses (counter, gauge, histogram),
 * each with a fixed list of label names, and their text exposition (format
 * 0.0.4: docs/api.md#metrics).
 *
 * Recording costs one Map lookup by the joined label values and an addition
 * (a histogram also finds its bucket among a dozen bounds); everything else
 * (cumulating buckets, escaping, formatting) happens when /metrics is read.
 * Label values must come from bounded sets (the callers fold unknown ones);
 * MAX_SERIES is a last guard: past it, new label sets go to one series whose
 * values are all "other", so memory stays bounded whatever happens.
 */

/** Series per instrument beyond which new label sets are folded into one. */
export const MAX_SERIES = 1_000;
const FOLDED = "other";
const SEP = "\u0001";

interface Series<V> {
  labels: readonly string[];
  value: V;
}

abstract class Instrument<V> {
  readonly #series = new Map<string, Series<V>>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected abstract initial(): V;

  /**
   * The value holder of one label set, created at 0. Callers on the request
   * path may keep it and update it directly (no lookup per update).
   */
  series(labels: readonly string[]): V {
    return this.at(labels).value;
  }

  protected at(labels: readonly string[]): Series<V> {
    const key = labels.length === 1 ? labels[0]! : labels.join(SEP);
    let series = this.#series.get(key);
    if (series === undefined) {
      if (this.#series.size >= MAX_SERIES) {
        const folded = this.labelNames.map(() => FOLDED);
        return this.#series.get(folded.join(SEP)) ?? this.#create(folded.join(SEP), folded);
      }
      series = this.#create(key, labels);
    }
    return series;
  }

  #create(key: string, labels: readonly string[]): Series<V> {
    const series = { labels: [...labels], value: this.initial() };
    this.#series.set(key, series);
    return series;
  }

  /** Every series, in the order they were first seen. */
  protected all(): Iterable<Series<V>> {
    return this.#series.values();
  }

  protected header(out: string[], type: string): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${type}`);
  }

  protected labelText(labels: readonly string[], extra?: string): string {
    const parts = this.labelNames.map((name, i) => `${name}="${escapeLabel(labels[i] ?? "")}"`);
    if (extra !== undefined) parts.push(extra);
    return parts.length === 0 ? "" : `{${parts.join(",")}}`;
  }

  abstract write(out: string[]): void;
}

export class Counter extends Instrument<{ n: number }> {
  protected initial() {
    return { n: 0 };
  }

  inc(labels: readonly string[], by = 1): void {
    this.at(labels).value.n += by;
  }

  /** Makes the series exist (at 0), so rate() sees it from the first scrape. */
  touch(labels: readonly string[]): void {
    this.at(labels);
  }

  write(out: string[]): void {
    this.header(out, "counter");
    for (const s of this.all()) {
      out.push(`${this.name}${this.labelText(s.labels)} ${num(s.value.n)}`);
    }
  }
}

export class Gauge extends Instrument<{ n: number }> {
  protected initial() {
    return { n: 0 };
  }

  set(labels: readonly string[], value: number): void {
    this.at(labels).value.n = value;
  }

  add(labels: readonly string[], by: number): void {
    this.at(labels).value.n += by;
  }

  write(out: string[]): void {
    this.header(out, "gauge");
    for (const s of this.all()) {
      out.push(`${this.name}${this.labelText(s.labels)} ${num(s.value.n)}`);
    }
  }
}

export interface HistogramValue {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Instrument<HistogramValue> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    /** Upper bounds, ascending. */
    readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  protected initial(): HistogramValue {
    return { counts: new Array(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
  }

  observe(labels: readonly string[], value: number): void {
    this.observeInto(this.at(labels).value, value);
  }

  /** Adds one observation to a series held by the caller (see series()). */
  observeInto(v: HistogramValue, value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    v.counts[i]!++;
    v.sum += value;
    v.count++;
  }

  write(out: string[]): void {
    this.header(out, "histogram");
    for (const s of this.all()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += s.value.counts[i]!;
        const le = i < this.bounds.length ? num(this.bounds[i]!) : "+Inf";
        out.push(`${this.name}_bucket${this.labelText(s.labels, `le="${le}"`)} ${cumulative}`);
      }
      out.push(`${this.name}_sum${this.labelText(s.labels)} ${num(s.value.sum)}`);
      out.push(`${this.name}_count${this.labelText(s.labels)} ${s.value.count}`);
    }
  }
}

/** A sample value as the format spells it (Go's ParseFloat reads these). */
export function num(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** HELP text escapes backslash and line feed. */
export function escapeHelp(value: string): string {
  return value.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** The instruments and the exposition text, checked with an independent parser. */
import assert from "node:assert/strict";
import { Counter, Gauge, Histogram, MAX_SERIES } from "../../src/metrics/instruments.ts";
import { observeRequest } from "../../src/metrics/metrics.ts";
import { metricsText } from "../../src/metrics/metrics.ts";
import { Runtime } from "../../src/runtime.ts";
import { parseScrape } from "./scrape.ts";

const exposition = (...instruments: { write(out: string[]): void }[]) => {
  const out: string[] = [];
  for (const i of instruments) i.write(out);
  return out.join("\n") + "\n";
};

Deno.test("instruments: escaping, histogram buckets, folding", async (t) => {
  await t.step("label values and HELP text are escaped", () => {
    const counter = new Counter("kleis_test_total", "Help with \\ and\nnewline.", ["v"]);
    const hostile = 'a"b\\c\nd}{,=';
    counter.inc([hostile], 2);
    const text = exposition(counter);
    assert.ok(text.includes("# HELP kleis_test_total Help with \\\\ and\\nnewline."));
    assert.equal(parseScrape(text).value("kleis_test_total", { v: hostile }), 2);
  });

  await t.step("a histogram's buckets are cumulative; a bound holds values equal to it", () => {
    const h = new Histogram("kleis_test_seconds", "Test.", ["r"], [0.1, 1, 10]);
    for (const v of [0.05, 0.1, 0.5, 1, 30]) h.observe(["x"], v);
    const got = parseScrape(exposition(h)).histogram("kleis_test_seconds", { r: "x" })!;
    assert.deepEqual(
      [...got.buckets],
      [["0.1", 2], ["1", 4], ["10", 4], ["+Inf", 5]],
    );
    assert.equal(got.count, 5);
    assert.equal(got.sum, 31.65);
  });

  await t.step("gauges go up and down; unlabeled series have no braces", () => {
    const g = new Gauge("kleis_test_open", "Test.", []);
    g.add([], 1);
    g.add([], 1);
    g.add([], -1);
    const text = exposition(g);
    assert.ok(text.includes("\nkleis_test_open 1\n"));
    assert.equal(parseScrape(text).value("kleis_test_open"), 1);
  });

  await t.step(`past ${MAX_SERIES} label sets, new ones share one "other" series`, () => {
    const counter = new Counter("kleis_many_total", "Test.", ["a", "b"]);
    for (let i = 0; i < MAX_SERIES + 50; i++) counter.inc([`a${i}`, "b"]);
    const scrape = parseScrape(exposition(counter));
    assert.equal(scrape.series("kleis_many_total").length, MAX_SERIES + 1);
    assert.equal(scrape.value("kleis_many_total", { a: "other", b: "other" }), 50);
  });
});

Deno.test("observeRequest folds routes Kleis does not serve and statuses out of range", () => {
  const deps = { runtime: new Runtime() };
  const event = {
    provider: null,
    endpoint: "/v1/some/guessed/path",
    status: 429,
    latencyMs: 0,
    firstByteMs: null,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  };
  observeRequest(deps, event);
  observeRequest(deps, { ...event, endpoint: "/v1/another", status: 1000 });
  const scrape = parseScrape(metricsText(deps, { accounts: [] }));
  assert.equal(
    scrape.value("kleis_proxy_requests_total", { route: "other", provider: "none", status: "429" }),
    1,
  );
  assert.equal(
    scrape.value("kleis_proxy_requests_total", {
      route: "other",
      provider: "none",
      status: "other",
    }),
    1,
  );
  assert.equal(scrape.series("kleis_proxy_requests_total").length, 2);
});

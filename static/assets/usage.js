// Usage: window selector, totals against the previous window, charts, and a
// table grouped by key, account, model, provider, endpoint, client address or user agent.
import { get } from "./api.js";
import { h, replace, uid } from "./dom.js";
import { change, compact, ms, num, percent, successRate, totalTokens, WINDOWS } from "./format.js";
import { stackedBars, STATUS_LAYERS, TOKEN_LAYERS } from "./charts.js";
import { viewHead } from "./view.js";

const GROUPS = [
  { id: "key", name: "Key" },
  { id: "account", name: "Account" },
  { id: "model", name: "Model" },
  { id: "provider", name: "Provider" },
  { id: "endpoint", name: "Endpoint" },
  { id: "client", name: "Client address" },
  { id: "userAgent", name: "User agent" },
];

function windowSelector(selectedMs, onChange) {
  const name = uid("window");
  const group = h(
    "fieldset",
    { class: "segmented" },
    h("legend", { class: "sr-only", text: "Time window" }),
  );
  for (const w of WINDOWS) {
    const id = uid("w");
    const input = h("input", {
      type: "radio",
      name,
      id,
      value: String(w.ms),
      checked: w.ms === selectedMs,
    });
    input.addEventListener("change", () => onChange(w.ms));
    group.append(input, h("label", { for: id, text: w.label }));
  }
  return group;
}

function stat(label, value, comparison, betterWhenUp = true) {
  // An average (latency) has nothing to compare with when the previous window had no requests.
  const comparable = comparison && !(comparison.average && !comparison.previous);
  const delta = comparable ? change(comparison.current, comparison.previous) : null;
  let cls = "delta";
  if (delta && delta.direction !== 0) {
    cls += (delta.direction > 0) === betterWhenUp ? " good" : " bad";
  }
  return h(
    "div",
    { class: "stat" },
    h("div", { class: "stat-label", text: label }),
    h("div", { class: "stat-value", text: value }),
    delta ? h("div", { class: cls, text: `${delta.text} vs previous` }) : null,
  );
}

/** Totals, with each compared to the same-length window before it. */
export function totalsGrid(totals, previous) {
  const t = totals ?? {};
  const p = previous ?? {};
  const rate = successRate(t);
  const prevRate = successRate(p);
  return h(
    "div",
    { class: "stats" },
    stat("Requests", num(t.requests), { current: t.requests, previous: p.requests }),
    stat(
      "Success rate",
      percent(rate, 1),
      rate !== undefined && prevRate !== undefined ? { current: rate, previous: prevRate } : null,
    ),
    stat(
      "Avg latency",
      ms(t.avgLatencyMs),
      { current: t.avgLatencyMs, previous: p.avgLatencyMs, average: true },
      false,
    ),
    stat("Max latency", ms(t.maxLatencyMs)),
    stat("Avg first byte", ms(t.avgFirstByteMs), {
      current: t.avgFirstByteMs,
      previous: p.avgFirstByteMs,
      average: true,
    }, false),
    stat(
      "Rate limited (429)",
      num(t.status429),
      { current: t.status429, previous: p.status429 },
      false,
    ),
    stat("Proxy / backend errors", `${num(t.proxyErrors)} / ${num(t.backendErrors)}`),
    stat("Tokens", compact(totalTokens(t)), { current: totalTokens(t), previous: totalTokens(p) }),
    stat("Input · output", `${compact(t.inputTokens)} · ${compact(t.outputTokens)}`),
    stat("Cache read · write", `${compact(t.cacheReadTokens)} · ${compact(t.cacheWriteTokens)}`),
  );
}

export function charts(data) {
  const series = Array.isArray(data?.series) ? data.series : [];
  const t = data?.totals ?? {};
  return h(
    "div",
    { class: "charts" },
    stackedBars({
      title: "Requests by status",
      series,
      layers: STATUS_LAYERS,
      windowMs: data?.windowMs,
      bucketMs: data?.bucketMs,
      summary: `${num(t.requests)} requests: ${num(t.status2xx)} 2xx, ${
        num(Math.max(0, (t.status4xx ?? 0) - (t.status429 ?? 0)))
      } other 4xx, ${num(t.status429)} 429, ${num(t.status5xx)} 5xx.`,
    }),
    stackedBars({
      title: "Tokens by kind",
      series,
      layers: TOKEN_LAYERS,
      windowMs: data?.windowMs,
      bucketMs: data?.bucketMs,
      summary: `${num(t.inputTokens)} input, ${num(t.outputTokens)} output, ${
        num(t.cacheReadTokens)
      } cache read, ${num(t.cacheWriteTokens)} cache write tokens.`,
    }),
  );
}

function groupTable(groups, groupName) {
  if (!groups?.length) return h("p", { class: "empty", text: "No requests in this window." });
  const sorted = [...groups].sort((a, b) => (b.requests ?? 0) - (a.requests ?? 0));
  const headers = [
    groupName,
    "Requests",
    "Success",
    "Avg latency",
    "Input",
    "Output",
    "Cache read",
    "Cache write",
  ];
  return h(
    "div",
    {
      class: "table-wrap",
      tabindex: "0",
      role: "region",
      "aria-label": `Usage by ${groupName.toLowerCase()}`,
    },
    h(
      "table",
      { class: "data stack-narrow" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((text, i) => h("th", { scope: "col", class: i ? "num" : "", text })),
        ),
      ),
      h(
        "tbody",
        {},
        sorted.map((g) =>
          h(
            "tr",
            {},
            h(
              "th",
              { scope: "row" },
              h("span", { text: g.label || g.key || "—" }),
              g.label && g.key && g.label !== g.key
                ? h("span", { class: "muted small block", text: g.key })
                : null,
            ),
            h("td", { class: "num", "data-label": "Requests", text: num(g.requests) }),
            h("td", { class: "num", "data-label": "Success", text: percent(successRate(g), 1) }),
            h("td", { class: "num", "data-label": "Avg latency", text: ms(g.avgLatencyMs) }),
            h("td", { class: "num", "data-label": "Input", text: compact(g.inputTokens) }),
            h("td", { class: "num", "data-label": "Output", text: compact(g.outputTokens) }),
            h("td", { class: "num", "data-label": "Cache read", text: compact(g.cacheReadTokens) }),
            h("td", {
              class: "num",
              "data-label": "Cache write",
              text: compact(g.cacheWriteTokens),
            }),
          )
        ),
      ),
    ),
  );
}

export function usageView(section) {
  let windowMs = 86_400_000;
  let groupBy = "key";
  const body = h("div", { class: "usage-body", "aria-busy": "true" });
  const tableBox = h("div", {});
  const groupSelect = h(
    "select",
    { id: uid("group") },
    GROUPS.map((g) => h("option", { value: g.id, text: g.name })),
  );
  groupSelect.addEventListener("change", () => {
    groupBy = groupSelect.value;
    load();
  });
  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    body.setAttribute("aria-busy", "true");
    try {
      const data = await get(`/admin/usage?windowMs=${windowMs}&groupBy=${groupBy}`);
      if (mine !== seq) return;
      replace(body, totalsGrid(data?.totals, data?.previous), charts(data));
      const name = GROUPS.find((g) => g.id === groupBy)?.name ?? groupBy;
      replace(tableBox, groupTable(data?.groups, name));
    } catch (error) {
      if (mine !== seq) return;
      replace(
        body,
        h("p", { class: "error-box", text: `Usage could not be loaded: ${error.message}` }),
      );
      replace(tableBox);
    } finally {
      if (mine === seq) body.setAttribute("aria-busy", "false");
    }
  };
  replace(
    section,
    viewHead(
      "usage-title",
      "Usage",
      windowSelector(windowMs, (w) => {
        windowMs = w;
        load();
      }),
    ),
    body,
    h(
      "section",
      { class: "group-section", "aria-labelledby": "usage-groups-title" },
      h(
        "div",
        { class: "section-head" },
        h("h2", { id: "usage-groups-title", text: "Breakdown" }),
        h(
          "div",
          { class: "inline-field" },
          h("label", { for: groupSelect.id, text: "Group by" }),
          groupSelect,
        ),
      ),
      tableBox,
    ),
  );
  load();
  return { show: load };
}

/** Usage of one key or account (path without query), for a dialog. */
export function usagePanel(path) {
  let windowMs = 86_400_000;
  const body = h(
    "div",
    { class: "usage-body", "aria-busy": "true" },
    h("p", { class: "muted", text: "Loading…" }),
  );
  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    try {
      const data = await get(`${path}?windowMs=${windowMs}`);
      if (mine !== seq) return;
      replace(body, totalsGrid(data?.totals, data?.previous), charts(data));
    } catch (error) {
      if (mine !== seq) return;
      replace(
        body,
        h("p", { class: "error-box", text: `Usage could not be loaded: ${error.message}` }),
      );
    } finally {
      if (mine === seq) body.setAttribute("aria-busy", "false");
    }
  };
  load();
  return h(
    "div",
    { class: "usage-panel" },
    windowSelector(windowMs, (w) => {
      windowMs = w;
      load();
    }),
    body,
  );
}

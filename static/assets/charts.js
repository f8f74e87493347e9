// Stacked bar charts as inline SVG, built with DOM calls (no library, no HTML
// parsing). The chart redraws to its container's width.
import { h, s } from "./dom.js";
import { axisTime, compact, dateTime, num } from "./format.js";

const HEIGHT = 180;
const PAD = { top: 10, right: 8, bottom: 24, left: 44 };

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten, at least `value`. */
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * series: [{start, ...counters}], oldest first. layers: [{label, cls, value(point)}]
 * bottom to top. Returns a <figure> with a legend and an accessible summary.
 */
export function stackedBars({ title, series, layers, windowMs, bucketMs, summary }) {
  const svgBox = h("div", { class: "chart-box" });
  const figure = h(
    "figure",
    { class: "chart" },
    h("figcaption", {}, h("span", { class: "chart-title", text: title })),
    h(
      "ul",
      { class: "legend" },
      layers.map((l) =>
        h("li", {}, h("span", { class: ["swatch", l.cls], "aria-hidden": "true" }), l.label)
      ),
    ),
    svgBox,
  );
  let lastWidth = 0;
  const draw = (width) => {
    if (width <= 0 || width === lastWidth) return;
    lastWidth = width;
    svgBox.replaceChildren(render(width));
  };
  const render = (width) => {
    const plotW = Math.max(10, width - PAD.left - PAD.right);
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    const totals = series.map((p) => layers.reduce((sum, l) => sum + (l.value(p) || 0), 0));
    const max = niceMax(Math.max(0, ...totals));
    const svg = s("svg", {
      width: String(width),
      height: String(HEIGHT),
      viewBox: `0 0 ${width} ${HEIGHT}`,
      role: "img",
      "aria-label": `${title}. ${summary}`,
      class: "chart-svg",
    });
    svg.append(s("title", { text: `${title}. ${summary}` }));
    // Grid lines and y labels at 0, ½ and the top.
    for (const fraction of [0, 0.5, 1]) {
      const y = PAD.top + plotH * (1 - fraction);
      svg.append(
        s("line", {
          x1: String(PAD.left),
          x2: String(PAD.left + plotW),
          y1: String(y),
          y2: String(y),
          class: "grid",
        }),
        s("text", {
          x: String(PAD.left - 6),
          y: String(y + 4),
          class: "axis y-axis",
          text: compact(max * fraction),
        }),
      );
    }
    const n = Math.max(1, series.length);
    const slot = plotW / n;
    const barW = Math.max(1, slot * 0.78);
    series.forEach((point, i) => {
      const x = PAD.left + i * slot + (slot - barW) / 2;
      let y = PAD.top + plotH;
      const tip = [dateTime(point.start)];
      for (const layer of layers) {
        const value = layer.value(point) || 0;
        tip.push(`${layer.label}: ${num(value)}`);
        if (value <= 0) continue;
        const barH = (value / max) * plotH;
        y -= barH;
        svg.append(
          s("rect", {
            x: x.toFixed(2),
            y: y.toFixed(2),
            width: barW.toFixed(2),
            height: Math.max(0.5, barH).toFixed(2),
            class: ["bar-rect", layer.cls],
          }),
        );
      }
      // One transparent column per bucket carries the tooltip for the whole stack.
      svg.append(s(
        "rect",
        {
          x: (PAD.left + i * slot).toFixed(2),
          y: String(PAD.top),
          width: slot.toFixed(2),
          height: String(plotH),
          class: "hit",
        },
        s("title", { text: tip.join("\n") }),
      ));
    });
    // About five x labels, whatever the width.
    const labelEvery = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(plotW / 70))));
    series.forEach((point, i) => {
      if (i % labelEvery !== 0) return;
      svg.append(s("text", {
        x: (PAD.left + i * slot + slot / 2).toFixed(2),
        y: String(HEIGHT - 6),
        class: "axis x-axis",
        text: axisTime(point.start, windowMs, bucketMs),
      }));
    });
    if (series.length === 0) {
      svg.append(
        s("text", {
          x: String(PAD.left + plotW / 2),
          y: String(PAD.top + plotH / 2),
          class: "axis empty-chart",
          text: "No data in this window",
        }),
      );
    }
    return svg;
  };
  const observer = new ResizeObserver((entries) => {
    for (const entry of entries) draw(Math.floor(entry.contentRect.width));
  });
  observer.observe(svgBox);
  return figure;
}

export const STATUS_LAYERS = [
  { label: "2xx", cls: "c-ok", value: (p) => p.status2xx },
  // The API's status4xx includes the 429s, which get their own layer.
  {
    label: "4xx",
    cls: "c-client",
    value: (p) => Math.max(0, (p.status4xx ?? 0) - (p.status429 ?? 0)),
  },
  { label: "429", cls: "c-limit", value: (p) => p.status429 },
  { label: "5xx", cls: "c-server", value: (p) => p.status5xx },
];

export const TOKEN_LAYERS = [
  { label: "Input", cls: "c-input", value: (p) => p.inputTokens },
  { label: "Output", cls: "c-output", value: (p) => p.outputTokens },
  { label: "Cache read", cls: "c-cread", value: (p) => p.cacheReadTokens },
  { label: "Cache write", cls: "c-cwrite", value: (p) => p.cacheWriteTokens },
];

// Request capture of one key, in a dialog opened from its card: start (for a
// bounded time) and stop, the captured requests newest first, one capture
// with the request as sent to the backend and the answer as sent to the
// client. Everything shown was redacted by Kleis before it was stored.
import { del, get, post, seg } from "./api.js";
import { announce, announceError, busy, h, openDialog, replace, uid } from "./dom.js";
import { dateTime, ms, num, relative } from "./format.js";

const DURATIONS = [
  { seconds: 900, label: "15 minutes" },
  { seconds: 3600, label: "1 hour" },
  { seconds: 4 * 3600, label: "4 hours" },
  { seconds: 24 * 3600, label: "24 hours" },
];

/** The card's fact for a key that is capturing, or undefined. */
export function captureFact(key) {
  const until = key.capture?.until;
  return typeof until === "number" && until > Date.now()
    ? `on until ${dateTime(until)}`
    : undefined;
}

function bytes(n) {
  if (typeof n !== "number") return "—";
  return n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${num(n)} B`;
}

function headerTable(headers, label) {
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": label },
    h(
      "table",
      { class: "data capture-headers" },
      h(
        "tbody",
        {},
        (headers ?? []).map(([name, value]) =>
          h(
            "tr",
            {},
            h("th", { scope: "row", text: name }),
            h("td", { class: "mono", text: value }),
          )
        ),
      ),
    ),
  );
}

function bodyBlock(text, info, label) {
  const note = info?.truncated
    ? `${bytes(info.bytes)}, only the first part kept`
    : bytes(info?.bytes);
  return [
    h("p", { class: "muted small", text: `${label}: ${note}` }),
    h(
      "pre",
      { class: "snippet capture-body", "aria-label": label },
      h("code", { text: text ?? "" }),
    ),
  ];
}

function detail(capture) {
  const up = capture.upstream;
  return h(
    "div",
    { class: "capture-detail" },
    h("h3", { text: "Request as sent to the backend" }),
    up
      ? [
        h("p", { class: "mono capture-url", text: `${up.method} ${up.url}` }),
        headerTable(up.headers, "Request headers"),
        bodyBlock(capture.requestBody, up.body, "Request body"),
      ]
      : h("p", { class: "muted", text: "None: Kleis answered this request itself." }),
    h("h3", { text: `Answer as sent to the client: ${capture.answer.status}` }),
    headerTable(capture.answer.headers, "Answer headers"),
    bodyBlock(capture.answerBody, capture.answer.body, "Answer body"),
  );
}

/** Opens the capture dialog of `key`; `reload` refreshes the key list (the card's fact). */
export function openCaptures(key, reload) {
  const path = `/admin/keys/${seg(key.id)}`;
  const state = h("div", { class: "capture-state" });
  const list = h("div", { class: "capture-list", "aria-busy": "true" });
  const view = h("div", { class: "capture-view" });

  const load = async () => {
    list.setAttribute("aria-busy", "true");
    try {
      const data = await get(`${path}/captures`);
      renderState(data?.capture);
      renderList(data?.captures ?? []);
    } catch (error) {
      replace(
        list,
        h("p", { class: "error-box", text: `Captures could not be loaded: ${error.message}` }),
      );
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  };

  const act = (button, request, message) =>
    busy(button, async () => {
      try {
        await request();
        announce(message);
        await load();
        await reload?.();
      } catch (error) {
        announceError(error.message);
      }
    });

  function renderState(capture) {
    if (capture?.active) {
      const stop = h("button", { type: "button", class: "small danger", text: "Stop capture" });
      stop.addEventListener(
        "click",
        () => act(stop, () => del(`${path}/capture`), `Capture of ${key.label} stopped.`),
      );
      replace(
        state,
        h("p", {
          class: "capture-status",
          text: `Capturing until ${dateTime(capture.until)} (${relative(capture.until)}).`,
        }),
        h("div", { class: "actions" }, stop),
      );
      return;
    }
    const select = h(
      "select",
      { id: uid("capture-duration") },
      DURATIONS.map((d) =>
        h("option", { value: String(d.seconds), text: d.label, selected: d.seconds === 3600 })
      ),
    );
    const start = h("button", { type: "button", class: "small primary", text: "Start capture" });
    start.addEventListener("click", () =>
      act(
        start,
        () => post(`${path}/capture`, { durationSeconds: Number(select.value) }),
        `Capturing the requests of ${key.label}.`,
      ));
    replace(
      state,
      h("p", {
        class: "capture-status",
        text:
          "Capture is off. When on, each request of this key is stored as it went to the backend, with its answer, secrets removed.",
      }),
      h(
        "div",
        { class: "inline-field" },
        h("label", { for: select.id, text: "Capture for" }),
        select,
        start,
      ),
    );
  }

  function renderList(captures) {
    if (!captures.length) {
      replace(list, h("p", { class: "empty", text: "No captured requests." }));
      return;
    }
    const removeAll = h("button", { type: "button", class: "small danger", text: "Delete all" });
    removeAll.addEventListener(
      "click",
      () => act(removeAll, () => del(`${path}/captures`), "Captured requests deleted."),
    );
    replace(
      list,
      h(
        "div",
        { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Captured requests" },
        h(
          "table",
          { class: "data" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Time", "Endpoint", "Model", "Status", "Took", "Size", ""].map((text) =>
                h("th", { scope: "col", text })
              ),
            ),
          ),
          h("tbody", {}, captures.map((c) => row(c))),
        ),
      ),
      h("div", { class: "actions" }, removeAll),
    );
  }

  function row(c) {
    const open = h("button", { type: "button", class: "small", text: "View" });
    open.addEventListener("click", () =>
      busy(open, async () => {
        try {
          const data = await get(`${path}/captures/${seg(c.id)}`);
          replace(view, detail(data.capture));
          view.scrollIntoView?.({ block: "nearest" });
        } catch (error) {
          announceError(error.message);
        }
      }));
    const remove = h("button", { type: "button", class: "small danger", text: "Delete" });
    remove.addEventListener("click", () =>
      act(remove, async () => {
        await del(`${path}/captures/${seg(c.id)}`);
        replace(view);
      }, "Captured request deleted."));
    const size = `${bytes(c.requestBytes)} → ${bytes(c.answerBytes)}${c.truncated ? " (cut)" : ""}`;
    return h(
      "tr",
      { class: "capture-row", dataset: { id: c.id } },
      h("th", { scope: "row", text: dateTime(c.at) }),
      h("td", { text: c.endpoint }),
      h("td", { text: c.model ?? "—" }),
      h("td", { class: "num", text: String(c.status) }),
      h("td", { class: "num", text: ms(c.durationMs) }),
      h("td", { class: "num", text: size }),
      h("td", {}, h("div", { class: "actions" }, open, remove)),
    );
  }

  const refresh = h("button", { type: "button", class: "ghost small", text: "Refresh" });
  refresh.addEventListener("click", () => busy(refresh, load));
  openDialog({
    title: `Request capture of ${key.label}`,
    wide: true,
    content: [
      state,
      h("div", { class: "section-head" }, h("h3", { text: "Captured requests" }), refresh),
      list,
      view,
    ],
  });
  load();
}

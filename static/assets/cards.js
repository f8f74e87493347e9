// The parts of an account or key card: its frame (heading and badges), the
// fact list, and the action row, where each action is busy while it runs and
// says in the status line whether it worked.
import { announce, announceError, busy, confirmDialog, h, openDialog } from "./dom.js";
import { usagePanel } from "./usage.js";

/** The card: `label` heads it (and names it for screen readers), `badges` sit beside. */
export function card(classes, label, badges, ...body) {
  return h(
    "article",
    { class: ["card", ...classes], "aria-label": label },
    h(
      "div",
      { class: "card-head" },
      h("h3", { text: label }),
      h("div", { class: "badges" }, badges),
    ),
    ...body,
  );
}

/** A status badge; `id` picks its colour (status-<id>). */
export function statusBadge(id, text) {
  return h("span", { class: ["badge", `status-${id}`], text });
}

/** A <dl> of facts; a fact with no value (undefined, null or "") is left out. */
export function factList() {
  const element = h("dl", { class: "facts" });
  const fact = (name, value, cls) => {
    if (value === undefined || value === null || value === "") return;
    element.append(
      h("dt", { text: name }),
      value instanceof Node ? value : h("dd", { class: cls, text: value }),
    );
  };
  return { element, fact };
}

/**
 * The card's action row. `act` adds a button whose handler runs busy; `run`
 * sends a request, announces `okMessage` and reloads, or announces the error;
 * `confirmAct` asks first (a danger dialog) and runs only on yes; `usageAct`
 * opens the usage panel of `path`.
 */
export function cardActions(reload) {
  const element = h("div", { class: "actions wrap" });
  const act = (label, handler, cls = "small") => {
    const button = h("button", { type: "button", class: cls, text: label });
    button.addEventListener("click", () => busy(button, handler));
    element.append(button);
    return button;
  };
  const run = async (request, okMessage) => {
    try {
      await request();
      announce(okMessage);
      await reload();
    } catch (error) {
      announceError(error.message);
    }
  };
  const confirmAct = (label, question, request, okMessage) =>
    act(label, async () => {
      const ok = await confirmDialog({ ...question, danger: true });
      if (ok) await run(request, okMessage);
    }, "small danger");
  const usageAct = (ofLabel, path) =>
    act("Usage", () => {
      openDialog({ title: `Usage of ${ofLabel}`, wide: true, content: usagePanel(path) });
    });
  return { element, act, run, confirmAct, usageAct };
}

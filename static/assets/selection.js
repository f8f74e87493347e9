// Account selection: how the proxy picks among each provider's accounts
// (GET /admin/selection, PUT /admin/selection/:provider). A section of the
// Accounts view; a change is saved as soon as it is picked.
import { api, get, seg } from "./api.js";
import { announce, announceError, h, replace } from "./dom.js";
import { dateTime, providerName } from "./format.js";

const STRATEGIES = [
  {
    id: "fill-first",
    label: "Fill first",
    hint: "The primary, then the others by priority: one account until it cools down.",
  },
  {
    id: "round-robin",
    label: "Round robin",
    hint: "Takes turns among accounts of equal priority (give them the same priority in Edit); " +
      "a higher number is used only when those fail.",
  },
  {
    id: "least-used",
    label: "Least used",
    hint: "The account with the most headroom in its tightest quota window first " +
      "(Copilot reports no windows: there it goes by priority).",
  },
];

function strategyRow(setting, reload) {
  const selectId = `selection-${setting.provider}`;
  const hintId = `${selectId}-hint`;
  const current = STRATEGIES.find((s) => s.id === setting.strategy) ?? STRATEGIES[0];
  const hint = h("p", { class: "hint", id: hintId, text: current.hint });
  const select = h(
    "select",
    { id: selectId, "aria-describedby": hintId, "data-provider": setting.provider },
    STRATEGIES.map((s) => {
      const option = h("option", { value: s.id, text: s.label });
      if (s.id === setting.strategy) option.selected = true;
      return option;
    }),
  );
  select.addEventListener("change", async () => {
    const chosen = STRATEGIES.find((s) => s.id === select.value);
    select.disabled = true;
    try {
      await api("PUT", `/admin/selection/${seg(setting.provider)}`, { strategy: select.value });
      announce(`${providerName(setting.provider)} now uses ${chosen?.label ?? select.value}.`);
    } catch (error) {
      announceError(`Could not change the selection: ${error.message}`);
    }
    await reload();
  });
  return h(
    "div",
    { class: "field" },
    h("label", { for: selectId, text: providerName(setting.provider) }),
    select,
    hint,
    setting.updatedAt
      ? h("p", { class: "muted small", text: `Set ${dateTime(setting.updatedAt)}` })
      : null,
  );
}

/** The section; loads itself and reloads after each change. */
export function selectionSection() {
  const body = h("div", { "aria-live": "polite" }, h("p", { class: "muted", text: "Loading…" }));
  const reload = async () => {
    try {
      const data = await get("/admin/selection");
      replace(
        body,
        h(
          "div",
          { class: "selection-grid" },
          (data?.providers ?? []).map((s) => strategyRow(s, reload)),
        ),
      );
    } catch (error) {
      replace(body, h("p", { class: "form-message", text: `Could not load: ${error.message}` }));
    }
  };
  reload();
  return h(
    "section",
    { class: "selection", "aria-labelledby": "selection-title" },
    h("h2", { id: "selection-title", text: "Account selection" }),
    h("p", {
      class: "muted",
      text: "Which account a request uses. A key pinned to an account, and a client session " +
        "already served by one, stay on it whatever the strategy.",
    }),
    body,
  );
}

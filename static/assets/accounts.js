// Accounts view: one section per provider, each account as a card with its
// status, live expiry countdown, quota bars and actions.
import { del, get, patch, post, seg } from "./api.js";
import { announce, busy, field, h, openDialog, replace, submitForm } from "./dom.js";
import { card, cardActions, factList, statusBadge } from "./cards.js";
import { listLoader, reloadButton, viewHead } from "./view.js";
import {
  dateTime,
  expiryCountdown,
  percent,
  providerName,
  PROVIDERS,
  relative,
  STATUS_LABELS,
} from "./format.js";
import { openConnectDialog } from "./connect.js";
import { openImportDialog } from "./import_dialog.js";
import { selectionSection } from "./selection.js";
import { proxyFact, proxyFields } from "./account_proxy.js";

export function accountsView(section) {
  const list = h("div", { class: "provider-list", "aria-busy": "true" });
  const reload = listLoader(list, "Accounts", async () => {
    const data = await get("/admin/accounts");
    renderAccounts(list, data?.accounts ?? [], reload);
  });
  replace(
    section,
    viewHead(
      "accounts-title",
      "Accounts",
      h("button", {
        type: "button",
        class: "primary",
        text: "Connect account",
        onclick: () => openConnectDialog(reload),
      }),
      h("button", {
        type: "button",
        text: "Import credentials",
        onclick: () => openImportDialog(reload),
      }),
      reloadButton(reload),
    ),
    list,
    selectionSection(),
  );
  reload();
  return { show: reload };
}

function renderAccounts(list, accounts, reload) {
  const sections = PROVIDERS.map((provider) => {
    const mine = accounts.filter((a) => a.provider === provider.id);
    const headingId = `provider-${provider.id}`;
    return h(
      "section",
      { class: "provider", "aria-labelledby": headingId },
      h(
        "h2",
        { id: headingId },
        provider.name,
        h("span", { class: "count", text: ` ${mine.length}` }),
      ),
      mine.length
        ? h("ul", { class: "cards" }, mine.map((a) => h("li", {}, accountCard(a, reload))))
        : h("p", {
          class: "empty",
          text: `No ${provider.name} account yet. Use “Connect account” or “Import credentials”.`,
        }),
    );
  });
  replace(list, sections);
}

/** A <dd> that re-renders itself every second while it is in the page. */
function ticking(render) {
  const el = h("dd", { "data-tick": "" });
  const update = () => {
    el.textContent = render();
  };
  el.addEventListener("tick", update);
  update();
  return el;
}

export function quotaBars(windows) {
  if (!Array.isArray(windows) || windows.length === 0) return null;
  return h(
    "ul",
    { class: "quota" },
    windows.map((w) => {
      const used = Math.min(1, Math.max(0, Number(w.usedFraction) || 0));
      const fill = h("span", { class: "bar-fill" });
      fill.style.width = `${(used * 100).toFixed(1)}%`;
      const level = used >= 0.9 ? "high" : used >= 0.7 ? "mid" : "low";
      const reset = typeof w.resetsAt === "number" ? `resets ${relative(w.resetsAt)}` : "";
      return h(
        "li",
        {},
        h(
          "div",
          { class: "quota-label" },
          h("span", { text: String(w.name ?? "window") }),
          h("span", { class: "muted", text: `${percent(used)} used${reset ? ` · ${reset}` : ""}` }),
        ),
        h(
          "div",
          {
            class: ["bar", `bar-${level}`],
            role: "progressbar",
            "aria-label": `${w.name ?? "Quota window"} used`,
            "aria-valuemin": "0",
            "aria-valuemax": "100",
            "aria-valuenow": String(Math.round(used * 100)),
          },
          fill,
        ),
      );
    }),
  );
}

function accountCard(account, reload) {
  const id = seg(account.id);
  const { element: details, fact } = factList();
  fact("Email", account.email);
  fact("Plan", account.plan);
  fact("Token expires", ticking(() => expiryCountdown(account.expiresAt)));
  fact("Last refresh", account.lastRefreshAt ? `${relative(account.lastRefreshAt)}` : "never");
  if (account.lastRefreshError) fact("Refresh error", account.lastRefreshError, "error-text");
  if (typeof account.coolingDownUntil === "number" && account.coolingDownUntil > Date.now()) {
    fact(
      "Cooling down",
      ticking(() =>
        `until ${dateTime(account.coolingDownUntil)} (${relative(account.coolingDownUntil)})`
      ),
    );
  }
  fact("Last used", account.lastUsedAt ? relative(account.lastUsedAt) : "never");
  fact("Priority", String(account.priority ?? "—"));
  fact("Outbound proxy", proxyFact(account));
  fact("Account id", h("dd", {}, h("code", { text: account.externalId ?? "" })));

  const quota = h("div", { class: "quota-box" }, quotaBars(account.quota?.windows));
  const { element: actions, act, run, confirmAct, usageAct } = cardActions(reload);
  if (!account.isPrimary) {
    act(
      "Make primary",
      () =>
        run(
          () => post(`/admin/accounts/${id}/primary`),
          `${account.label} is now the primary account.`,
        ),
    );
  }
  act(account.enabled ? "Disable" : "Enable", () =>
    run(
      () => patch(`/admin/accounts/${id}`, { enabled: !account.enabled }),
      `${account.label} is ${account.enabled ? "disabled" : "enabled"}.`,
    ));
  act(
    "Refresh now",
    () => run(() => post(`/admin/accounts/${id}/refresh`), `${account.label} was refreshed.`),
  );
  act("Check quota", async () => {
    try {
      const live = await get(`/admin/accounts/${id}/quota`);
      replace(quota, liveQuota(live));
    } catch (error) {
      replace(quota, h("p", { class: "error-text", text: `Quota check failed: ${error.message}` }));
    }
  });
  usageAct(account.label, `/admin/accounts/${id}/usage`);
  act("Edit", () => editAccount(account, reload));
  confirmAct(
    "Delete",
    {
      title: "Delete account",
      message: `Delete ${account.label} (${providerName(account.provider)})? ` +
        "Kleis forgets its tokens; keys pinned to it fall back to other accounts.",
      confirmLabel: "Delete account",
    },
    () => del(`/admin/accounts/${id}`),
    `${account.label} was deleted.`,
  );

  const status = account.status ?? "unknown";
  return card(
    ["account", account.enabled ? "" : "is-disabled"],
    account.label,
    [
      account.isPrimary ? h("span", { class: "badge primary-badge", text: "Primary" }) : null,
      statusBadge(status, STATUS_LABELS[account.status] ?? String(status)),
    ],
    details,
    quota,
    actions,
  );
}

/** The live quota answer: the provider's windows, then those of the last rate-limit headers. */
function liveQuota(live) {
  const checkedAt = typeof live?.fetchedAt === "number" ? live.fetchedAt : Date.now();
  const parts = [
    h("p", {
      class: "muted small",
      text: `Live from the provider, ${dateTime(checkedAt)}${
        live?.plan ? ` · plan ${live.plan}` : ""
      }`,
    }),
  ];
  const bars = quotaBars(live?.windows);
  parts.push(bars ?? h("p", { class: "small", text: "The provider reported no quota windows." }));
  const headers = live?.lastHeaders;
  const headerBars = quotaBars(headers?.windows);
  if (headerBars) {
    parts.push(
      h("p", {
        class: "muted small",
        text: `Last rate-limit headers seen${
          typeof headers.updatedAt === "number" ? ` ${relative(headers.updatedAt)}` : ""
        }`,
      }),
      headerBars,
    );
  }
  return parts;
}

function editAccount(account, reload) {
  const label = field(
    "Label",
    h("input", { type: "text", value: account.label, required: true, maxlength: 100 }),
  );
  const priority = field(
    "Priority",
    h("input", { type: "number", step: "1", value: String(account.priority ?? 0) }),
    "Lower numbers are tried first.",
  );
  const proxy = proxyFields(account);
  const { form, message, submit: save } = submitForm(
    "Save",
    label.row,
    priority.row,
    ...proxy.rows,
  );
  const d = openDialog({ title: `Edit ${account.label}`, content: form });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    const newLabel = label.input.value.trim();
    if (!newLabel) {
      message.textContent = "The label cannot be empty.";
      label.input.focus();
      return;
    }
    if (newLabel !== account.label) body.label = newLabel;
    const newPriority = Number(priority.input.value);
    if (!Number.isInteger(newPriority)) {
      message.textContent = "The priority must be a whole number.";
      priority.input.focus();
      return;
    }
    if (newPriority !== account.priority) body.priority = newPriority;
    const proxyChange = proxy.read();
    if (proxyChange.error) {
      message.textContent = proxyChange.error;
      return;
    }
    Object.assign(body, proxyChange);
    if (Object.keys(body).length === 0) return d.close();
    await busy(save, async () => {
      try {
        await patch(`/admin/accounts/${seg(account.id)}`, body);
        d.close();
        announce(`${newLabel} was saved.`);
        await reload();
      } catch (error) {
        message.textContent = error.message;
      }
    });
  });
}

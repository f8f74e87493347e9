// Alerts: the webhook Kleis POSTs to (URL, signing secret, which events,
// thresholds) from GET/PATCH /admin/alerts, and "Send test alert"
// (POST /admin/alerts/test). The secret is write-only: the API says only
// whether one is set.
import { get, patch, post } from "./api.js";
import { announce, busy, field, h, replace, uid } from "./dom.js";
import { dateTime } from "./format.js";
import { listLoader, reloadButton, viewHead } from "./view.js";

const EVENTS = [
  { id: "needsLogin", label: "An account needs a new login" },
  { id: "quota", label: "An account's quota window passes the threshold" },
  { id: "keyTokens", label: "A key reaches the threshold share of its tokens per day" },
  { id: "backupFailed", label: "A scheduled backup fails" },
];

function checkbox(label, checked) {
  const id = uid("alert-event");
  const input = h("input", { type: "checkbox", id, checked });
  return { input, row: h("div", { class: "check" }, input, h("label", { for: id, text: label })) };
}

function percentInput(value) {
  return h("input", {
    type: "number",
    min: "1",
    max: "100",
    step: "1",
    required: true,
    inputmode: "numeric",
    value: String(value),
  });
}

function settingsForm(settings, reload) {
  const url = field(
    "Webhook URL",
    h("input", {
      type: "url",
      value: "",
      autocomplete: "off",
      spellcheck: "false",
      placeholder: settings.url === null
        ? "https://example.com/hooks/kleis"
        : `${settings.url} (set; leave empty to keep it)`,
    }),
    "Kleis POSTs a JSON body here for each alert. Once saved, only its origin is shown: " +
      "a path can hold a token.",
  );
  url.input.name = "url";
  const secret = field(
    "Signing secret",
    h("input", {
      type: "password",
      autocomplete: "new-password",
      spellcheck: "false",
      placeholder: settings.secretSet ? "A secret is set (leave empty to keep it)" : "Not set",
    }),
    "At least 16 characters. Each POST then carries X-Kleis-Signature (HMAC-SHA256). " +
      "It is stored encrypted and never shown again.",
  );
  secret.input.name = "secret";
  const removeUrl = checkbox("Turn alerts off (forget the URL)", false);
  removeUrl.input.name = "removeUrl";
  const removeSecret = checkbox("Remove the signing secret", false);
  removeSecret.input.name = "removeSecret";

  const events = EVENTS.map((e) => ({ ...e, ...checkbox(e.label, settings.events[e.id]) }));
  for (const e of events) e.input.name = `event-${e.id}`;
  const quota = field("Quota threshold (%)", percentInput(settings.quotaThresholdPercent));
  quota.input.name = "quotaThresholdPercent";
  const tokens = field(
    "Key tokens threshold (%)",
    percentInput(settings.keyTokensThresholdPercent),
  );
  tokens.input.name = "keyTokensThresholdPercent";

  const message = h("p", { class: "form-message", role: "alert" });
  const save = h("button", { type: "submit", class: "primary", text: "Save" });
  const form = h(
    "form",
    { class: "form", novalidate: true, "aria-label": "Alert settings" },
    url.row,
    settings.url === null ? null : removeUrl.row,
    secret.row,
    settings.secretSet ? removeSecret.row : null,
    h(
      "fieldset",
      { class: "check-group" },
      h("legend", { text: "Send an alert when" }),
      events.map((e) => e.row),
    ),
    h("div", { class: "limit-group" }, quota.row, tokens.row),
    message,
    h("div", { class: "actions start" }, save),
  );

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    message.textContent = "";
    const body = {
      events: Object.fromEntries(events.map((e) => [e.id, e.input.checked])),
      quotaThresholdPercent: Number(quota.input.value),
      keyTokensThresholdPercent: Number(tokens.input.value),
    };
    for (
      const [name, input] of [["Quota threshold", quota.input], [
        "Key tokens threshold",
        tokens.input,
      ]]
    ) {
      const n = Number(input.value);
      if (!Number.isInteger(n) || n < 1 || n > 100) {
        message.textContent = `${name} must be a whole number from 1 to 100.`;
        input.focus();
        return;
      }
    }
    if (url.input.value.trim() !== "") body.url = url.input.value.trim();
    else if (removeUrl.input.checked) body.url = null;
    if (secret.input.value !== "") body.secret = secret.input.value;
    else if (removeSecret.input.checked) body.secret = null;
    busy(save, async () => {
      try {
        await patch("/admin/alerts", body);
        secret.input.value = "";
        announce("Alert settings saved.");
        await reload();
      } catch (error) {
        message.textContent = error.message;
      }
    });
  });
  return form;
}

function testSection(settings) {
  const result = h("p", { class: "muted", id: "alerts-test-result", "aria-live": "polite" });
  const button = h("button", {
    type: "button",
    text: "Send test alert",
    disabled: settings.url === null,
  });
  button.addEventListener("click", () =>
    busy(button, async () => {
      result.textContent = "Sending…";
      try {
        const outcome = await post("/admin/alerts/test");
        result.textContent = outcome.delivered
          ? `Delivered: the receiver answered HTTP ${outcome.status}.`
          : `Not delivered: ${outcome.error ?? "unknown error"}.`;
        result.className = outcome.delivered ? "success-box" : "error-box";
      } catch (error) {
        result.textContent = `Not sent: ${error.message}`;
        result.className = "error-box";
      }
    }));
  return h(
    "section",
    { "aria-labelledby": "alerts-test-title" },
    h("h2", { id: "alerts-test-title", text: "Test" }),
    h("p", {
      class: "muted",
      text: settings.url === null
        ? "Save a webhook URL first."
        : "Sends one alert of type alert.test now and shows the receiver's answer.",
    }),
    h("div", { class: "actions start" }, button),
    result,
  );
}

export function alertsView(section) {
  const body = h("div", { class: "alerts", "aria-busy": "true" });
  const reload = listLoader(body, "The alert settings", async () => {
    const { alerts } = await get("/admin/alerts");
    replace(
      body,
      h(
        "p",
        { class: "muted" },
        alerts.url === null
          ? "Alerts are off."
          : `Alerts go to ${alerts.url}${alerts.secretSet ? ", signed" : ", unsigned"}.`,
        alerts.updatedAt ? ` Last changed ${dateTime(alerts.updatedAt)}.` : "",
        " Deliveries appear in the audit log.",
      ),
      // .form: the two cards stacked with the form's gap between them.
      h(
        "div",
        { class: "form" },
        h("div", { class: "card" }, settingsForm(alerts, reload)),
        h("div", { class: "card" }, testSection(alerts)),
      ),
    );
  });
  replace(section, viewHead("alerts-title", "Alerts", reloadButton(reload)), body);
  reload();
  return { show: reload };
}

// Importing credential files (or raw token values) as accounts.
import { post, seg } from "./api.js";
import { announce, busy, field, h, openDialog, replace } from "./dom.js";
import { fromLocalInput, PROVIDERS } from "./format.js";
import { checkedValue, radioGroup } from "./connect.js";

const TAKEOVER_WARNING = "Importing takes over the refresh chain: the CLI these credentials " +
  "came from is logged out the first time Kleis refreshes them. Log it in again separately " +
  "if you still need it.";

export function openImportDialog(onImported) {
  const provider = field(
    "Provider",
    h("select", {}, PROVIDERS.map((p) => h("option", { value: p.id, text: p.name }))),
  );
  const warning = h("p", { class: "warning-box", text: TAKEOVER_WARNING });
  const file = field(
    "Credential file",
    h("input", { type: "file", accept: ".json,application/json" }),
    "Codex ~/.codex/auth.json, Claude ~/.claude/.credentials.json, OpenCode auth.json, Copilot apps.json or hosts.json.",
  );
  const paste = field(
    "…or paste its contents",
    h("textarea", {
      rows: "7",
      spellcheck: "false",
      autocomplete: "off",
      class: "mono",
      placeholder: "{ … }",
    }),
  );
  const fileSection = h("div", { class: "import-file" }, file.row, paste.row);
  const accessToken = field(
    "Access token",
    h("input", { type: "password", autocomplete: "off", spellcheck: "false" }),
  );
  const refreshToken = field(
    "Refresh token (optional)",
    h("input", { type: "password", autocomplete: "off", spellcheck: "false" }),
  );
  const expiresAt = field(
    "Access token expires (optional)",
    h("input", { type: "datetime-local" }),
  );
  const label = field("Label (optional)", h("input", { type: "text", maxlength: "200" }));
  const fieldsSection = h(
    "div",
    { class: "import-fields" },
    accessToken.row,
    refreshToken.row,
    expiresAt.row,
    label.row,
  );
  const mode = radioGroup("What do you have?", "importMode", [
    { id: "file", name: "A credential file" },
    { id: "fields", name: "Token values" },
  ], "file");
  const modeBox = h("div", {});
  const message = h("p", { class: "form-message", role: "alert" });
  const result = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary", text: "Import" });
  const form = h(
    "form",
    { class: "form" },
    provider.row,
    warning,
    mode,
    modeBox,
    message,
    result,
    h("div", { class: "actions" }, submit),
  );
  const update = () => {
    warning.hidden = provider.input.value === "copilot";
    replace(modeBox, checkedValue(form, "importMode") === "fields" ? fieldsSection : fileSection);
  };
  form.addEventListener("change", (e) => {
    if (e.target === provider.input || e.target.name === "importMode") update();
  });
  update();
  file.input.addEventListener("change", async () => {
    const chosen = file.input.files?.[0];
    if (!chosen) return;
    if (chosen.size > 256 * 1024) {
      message.textContent = "That file is too large to be a credential file.";
      return;
    }
    paste.input.value = await chosen.text();
    message.textContent = "";
  });

  const d = openDialog({ title: "Import credentials", content: form, wide: true });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    replace(result);
    let payload;
    if (checkedValue(form, "importMode") === "fields") {
      const token = accessToken.input.value.trim();
      if (!token) {
        message.textContent = "Enter the access token.";
        accessToken.input.focus();
        return;
      }
      payload = { accessToken: token };
      if (refreshToken.input.value.trim()) payload.refreshToken = refreshToken.input.value.trim();
      const expires = fromLocalInput(expiresAt.input.value);
      if (expires !== undefined) payload.expiresAt = expires;
      if (label.input.value.trim()) payload.label = label.input.value.trim();
    } else {
      const text = paste.input.value.trim();
      if (!text) {
        message.textContent = "Choose a credential file or paste its contents.";
        file.input.focus();
        return;
      }
      try {
        payload = JSON.parse(text);
      } catch {
        message.textContent = "That is not valid JSON. Paste the whole file.";
        paste.input.focus();
        return;
      }
    }
    await busy(submit, async () => {
      try {
        const answer = await post(`/admin/accounts/${seg(provider.input.value)}/import`, payload);
        const account = answer?.account;
        const warnings = (answer?.warnings ?? []).map((w) =>
          typeof w === "string" ? w : w?.message ?? JSON.stringify(w)
        );
        paste.input.value = "";
        accessToken.input.value = "";
        refreshToken.input.value = "";
        replace(
          result,
          h(
            "div",
            { class: "success-box", role: "status" },
            h("strong", { text: `Imported ${account?.label ?? "the account"}.` }),
            account?.email ? ` ${account.email}` : "",
          ),
          warnings.length
            ? h("ul", { class: "warning-box" }, warnings.map((w) => h("li", { text: w })))
            : null,
        );
        announce(`Imported ${account?.label ?? "the account"}.`);
        onImported?.();
      } catch (error) {
        message.textContent = `Import failed: ${error.message}`;
      }
    });
  });
  return d;
}

// Model aliases: list, create or replace, delete (GET/PUT/DELETE /admin/aliases).
import { del, get, put, seg } from "./api.js";
import { announce, busy, confirmDialog, field, h, replace, submitForm } from "./dom.js";
import { dateTime, providerName } from "./format.js";
import { listLoader, reloadButton, viewHead } from "./view.js";

function row(alias, reload) {
  const remove = h("button", {
    type: "button",
    class: "small danger",
    text: "Delete",
    "aria-label": `Delete alias ${alias.name}`,
  });
  remove.addEventListener("click", async () => {
    const ok = await confirmDialog({
      title: "Delete alias",
      message: `Delete the alias "${alias.name}"? Clients that use it get an unknown model.`,
      confirmLabel: "Delete",
      danger: true,
    });
    if (!ok) return;
    await busy(remove, async () => {
      try {
        await del(`/admin/aliases/${seg(alias.name)}`);
        announce(`Alias ${alias.name} deleted.`);
      } catch (error) {
        announce(`The alias could not be deleted: ${error.message}`);
      }
      await reload();
    });
  });
  return h(
    "tr",
    { "data-alias": alias.name },
    h("td", { "data-label": "Name" }, h("code", { text: alias.name })),
    h("td", { "data-label": "Target" }, h("code", { text: alias.target })),
    h("td", { "data-label": "Provider", text: providerName(alias.provider) }),
    h("td", {
      "data-label": "Available",
      text: alias.available ? "yes" : "not offered now",
    }),
    h("td", { class: "nowrap", "data-label": "Updated", text: dateTime(alias.updatedAt) }),
    h("td", { "data-label": "Actions" }, remove),
  );
}

function aliasForm(reload) {
  const name = field(
    "Name",
    h("input", { name: "name", autocomplete: "off", spellcheck: "false", required: true }),
    "What clients send as the model, e.g. fast. Letters, digits, . _ : -",
  );
  const target = field(
    "Target",
    h("input", { name: "target", autocomplete: "off", spellcheck: "false", required: true }),
    "A provider and its model, e.g. copilot/gpt-5-mini, codex/gpt-5.5-high, claude/claude-sonnet-4-5",
  );
  const { form, message, submit } = submitForm("Save alias", name.row, target.row);
  form.setAttribute("aria-label", "Create or replace an alias");
  // On the page, not in a dialog: the button sits under the fields, at the start.
  submit.parentElement.classList.add("start");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const aliasName = name.input.value.trim();
    if (!aliasName) {
      message.textContent = "Enter a name.";
      name.input.focus();
      return;
    }
    await busy(submit, async () => {
      try {
        const answer = await put(`/admin/aliases/${seg(aliasName)}`, {
          target: target.input.value.trim(),
        });
        message.textContent = "";
        name.input.value = "";
        target.input.value = "";
        announce(`Alias ${answer.alias.name} → ${answer.alias.target} saved.`);
        await reload();
      } catch (error) {
        message.textContent = error.message;
      }
    });
  });
  return form;
}

export function aliasesView(section) {
  const tbody = h("tbody", {});
  const empty = h("p", { class: "muted", "aria-live": "polite" });
  const table = h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Model aliases" },
    h(
      "table",
      { class: "data aliases stack-narrow" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Name", "Target", "Provider", "Available", "Updated", ""].map((t) =>
            h("th", { scope: "col", text: t })
          ),
        ),
      ),
      tbody,
    ),
  );
  const list = h("div", { "aria-busy": "false" }, table, empty);
  const reload = listLoader(list, "The aliases", async () => {
    const { aliases } = await get("/admin/aliases");
    aliases.sort((a, b) => a.name.localeCompare(b.name));
    tbody.replaceChildren(...aliases.map((a) => row(a, reload)));
    empty.textContent = aliases.length ? "" : "No aliases yet.";
    if (!list.contains(table)) replace(list, table, empty);
  });
  replace(
    section,
    viewHead("aliases-title", "Model aliases", reloadButton(() => reload())),
    h("p", {
      class: "muted",
      text: "An alias is a model name of your own for a provider's model. It works on every " +
        "route, is listed in /v1/models and /api.json, and a key's model scopes apply to its " +
        "target. A suffix on a model id sets its reasoning effort: -minimal, -low, -medium, " +
        "-high, -xhigh on OpenAI models; -thinking, -thinking-low, -thinking-medium, " +
        "-thinking-high on Claude models.",
    }),
    aliasForm(() => reload()),
    list,
  );
  reload();
  return { show: () => reload() };
}

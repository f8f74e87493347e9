// The form behind "Create key" and "Edit key": label, scopes, pinned
// accounts, limits and expiry, validated before anything is sent.
import { busy, field, h, uid } from "./dom.js";
import { fromLocalInput, PROVIDERS, toLocalInput } from "./format.js";

const LIMITS = [
  { id: "requestsPerMinute", label: "Requests per minute" },
  { id: "tokensPerDay", label: "Tokens per day" },
  { id: "concurrent", label: "Concurrent requests" },
];

const sameList = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Builds the form. `onSubmit(handler)` registers the async handler that gets
 * the request body; an error it throws is shown in the form.
 */
export function keyForm({ accounts, key, submitLabel }) {
  const label = field(
    "Label",
    h("input", {
      type: "text",
      required: true,
      maxlength: "100",
      value: key?.label ?? "",
      autocomplete: "off",
    }),
    "Who or what uses this key, e.g. “laptop OpenCode”.",
  );

  const providerBoxes = PROVIDERS.map((p) => {
    const id = uid("provider");
    const input = h("input", {
      type: "checkbox",
      id,
      value: p.id,
      checked: key?.providers?.includes(p.id) ?? false,
    });
    return {
      provider: p,
      input,
      row: h("div", { class: "check" }, input, h("label", { for: id, text: p.name })),
    };
  });
  const providers = h(
    "fieldset",
    { class: "check-group" },
    h("legend", { text: "Providers" }),
    h("p", { class: "hint", text: "None ticked: every provider." }),
    providerBoxes.map((b) => b.row),
  );

  const models = field(
    "Models",
    h("input", {
      type: "text",
      value: key?.models?.join(", ") ?? "",
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "gpt-5*, claude-sonnet-4-5",
    }),
    "Comma-separated model ids or * globs. Empty: every model.",
  );

  const pinSelects = PROVIDERS.map((p) => {
    const mine = accounts.filter((a) => a.provider === p.id);
    const select = h(
      "select",
      { disabled: mine.length === 0 },
      h("option", { value: "", text: mine.length ? "Any account" : "No account connected" }),
      mine.map((a) =>
        h("option", { value: a.id, text: a.label, selected: key?.accounts?.[p.id] === a.id })
      ),
    );
    return { provider: p, select, row: field(p.name, select).row };
  });
  const pins = h(
    "fieldset",
    { class: "pin-group" },
    h("legend", { text: "Pinned account per provider" }),
    pinSelects.map((p) => p.row),
  );

  const limitInputs = LIMITS.map((l) => {
    const value = key?.limits?.[l.id];
    const input = h("input", {
      type: "number",
      min: "1",
      step: "1",
      inputmode: "numeric",
      value: value ?? "",
      placeholder: "no limit",
    });
    return { limit: l, input, row: field(l.label, input).row };
  });
  const limits = h(
    "fieldset",
    { class: "limit-group" },
    h("legend", { text: "Limits" }),
    limitInputs.map((l) => l.row),
  );

  const expires = field(
    "Expires",
    h("input", { type: "datetime-local", value: toLocalInput(key?.expiresAt) }),
    "Empty: never. Local time.",
  );

  const message = h("p", { class: "form-message", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary", text: submitLabel });
  const element = h(
    "form",
    { class: "form key-form", novalidate: true },
    label.row,
    providers,
    models.row,
    pins,
    limits,
    expires.row,
    message,
    h("div", { class: "actions" }, submit),
  );

  const fail = (text, input) => {
    message.textContent = text;
    input?.focus();
    return null;
  };

  /** The request body, or null after showing what is wrong. */
  const read = () => {
    const body = {};
    const labelValue = label.input.value.trim();
    if (!labelValue) return fail("Give the key a label.", label.input);
    const chosen = providerBoxes.filter((b) => b.input.checked).map((b) => b.provider.id);
    const modelList = models.input.value.split(",").map((m) => m.trim()).filter(Boolean);
    if (modelList.some((m) => /\s/.test(m))) {
      return fail("Model ids cannot contain spaces.", models.input);
    }
    const pinned = {};
    for (const p of pinSelects) if (p.select.value) pinned[p.provider.id] = p.select.value;
    const limitValues = {};
    for (const l of limitInputs) {
      const raw = l.input.value.trim();
      if (!raw) continue;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) {
        return fail(`${l.limit.label} must be a whole number above 0.`, l.input);
      }
      limitValues[l.limit.id] = n;
    }
    const expiresAt = fromLocalInput(expires.input.value);
    if (expires.input.value && expiresAt === undefined) {
      return fail("The expiry date is not valid.", expires.input);
    }
    if (expiresAt !== undefined && expiresAt <= Date.now() && expiresAt !== key?.expiresAt) {
      return fail("The expiry must be in the future.", expires.input);
    }

    if (!key) {
      body.label = labelValue;
      if (chosen.length) body.providers = chosen;
      if (modelList.length) body.models = modelList;
      if (Object.keys(pinned).length) body.accounts = pinned;
      if (Object.keys(limitValues).length) body.limits = limitValues;
      if (expiresAt !== undefined) body.expiresAt = expiresAt;
      return body;
    }
    // Editing: send only what changed; a cleared field is sent as null ("remove").
    if (labelValue !== key.label) body.label = labelValue;
    const newProviders = chosen.length ? chosen : null;
    if (!sameList(newProviders, key.providers?.length ? key.providers : null)) {
      body.providers = newProviders;
    }
    const newModels = modelList.length ? modelList : null;
    if (!sameList(newModels, key.models?.length ? key.models : null)) body.models = newModels;
    const newPinned = Object.keys(pinned).length ? pinned : null;
    const oldPinned = key.accounts && Object.keys(key.accounts).length ? key.accounts : null;
    if (!sameList(newPinned, oldPinned)) body.accounts = newPinned;
    const newLimits = Object.keys(limitValues).length ? limitValues : null;
    const oldLimits = key.limits && Object.keys(key.limits).length ? key.limits : null;
    if (!sameList(newLimits, oldLimits)) body.limits = newLimits;
    if ((expiresAt ?? null) !== (key.expiresAt ?? null)) body.expiresAt = expiresAt ?? null;
    return body;
  };

  let handler = async () => {};
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    const body = read();
    if (!body) return;
    await busy(submit, async () => {
      try {
        await handler(body);
      } catch (error) {
        message.textContent = error.message;
      }
    });
  });

  return { element, onSubmit: (fn) => (handler = fn) };
}

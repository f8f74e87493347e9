// DOM helpers. Every value from the API goes into the page through text
// nodes and attributes set one by one: nothing here parses HTML, so a label
// like <img src=x onerror=alert(1)> shows as text.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Creates an element. `props`: `class`, `text`, `on{Event}` handlers,
 * `dataset`, boolean and string attributes; `children`: nodes or strings
 * (strings become text nodes); null/undefined/false children are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

/** Same as h() for SVG elements. */
export function s(tag, props = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

function applyProps(el, props) {
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.setAttribute("class", Array.isArray(value) ? value.join(" ") : value);
    else if (name === "text") el.textContent = String(value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "value" && "value" in el) el.value = String(value);
    else if (name === "checked" || name === "selected") el[name] = Boolean(value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let idCounter = 0;
export function uid(prefix = "f") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled form field; returns { row, input }. */
export function field(labelText, input, hint) {
  if (!input.id) input.id = uid("field");
  const row = h("div", { class: "field" }, h("label", { for: input.id, text: labelText }));
  row.append(input);
  if (hint) {
    const hintEl = h("p", { class: "hint", id: uid("hint"), text: hint });
    input.setAttribute("aria-describedby", hintEl.id);
    row.append(hintEl);
  }
  return { row, input };
}

/** A dialog's form: `rows`, then its error line (`message`), then the submit button. */
export function submitForm(submitLabel, ...rows) {
  const message = h("p", { class: "form-message", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary", text: submitLabel });
  const form = h("form", { class: "form" }, rows, message, h("div", { class: "actions" }, submit));
  return { form, message, submit };
}

/** Status line for screen readers and sighted users alike. */
let statusTimer;
export function announce(message) {
  const el = document.getElementById("status");
  clearTimeout(statusTimer);
  el.textContent = message;
  el.classList.add("visible");
  statusTimer = setTimeout(() => {
    el.classList.remove("visible");
    el.textContent = "";
  }, 5000);
}

let alertTimer;
export function announceError(message) {
  const el = document.getElementById("alert");
  clearTimeout(alertTimer);
  el.replaceChildren(
    h("span", { text: message }),
    h("button", {
      type: "button",
      class: "ghost small",
      "aria-label": "Dismiss message",
      text: "×",
      onclick: () => {
        el.classList.remove("visible");
        el.replaceChildren();
      },
    }),
  );
  el.classList.add("visible");
  alertTimer = setTimeout(() => {
    el.classList.remove("visible");
    el.replaceChildren();
  }, 12000);
}

/**
 * Opens a modal <dialog> built from `content`; resolves when it closes and
 * removes it from the document so nothing it showed lingers.
 */
export function openDialog({ title, content, wide = false, onClose }) {
  const titleId = uid("dialog-title");
  const closeButton = h("button", {
    type: "button",
    class: "ghost icon",
    "aria-label": "Close",
    text: "×",
  });
  const dialog = h(
    "dialog",
    { class: wide ? "dialog wide" : "dialog", "aria-labelledby": titleId },
    h("div", { class: "dialog-head" }, h("h2", { id: titleId, text: title }), closeButton),
    h("div", { class: "dialog-body" }, content),
  );
  closeButton.addEventListener("click", () => dialog.close());
  document.body.append(dialog);
  const closed = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      onClose?.();
      dialog.remove();
      resolve(dialog.returnValue);
    });
  });
  dialog.showModal();
  const first = dialog.querySelector("[autofocus]") ??
    dialog.querySelector(".dialog-body input, .dialog-body select, .dialog-body textarea");
  if (first) first.focus();
  return { dialog, closed, close: (value = "") => dialog.close(value) };
}

/** A yes/no question in a dialog; resolves true on confirm. */
export function confirmDialog({ title, message, confirmLabel = "Confirm", danger = false }) {
  const cancel = h("button", { type: "button", class: "ghost", text: "Cancel" });
  const ok = h("button", {
    type: "button",
    class: danger ? "danger" : "primary",
    text: confirmLabel,
  });
  const d = openDialog({
    title,
    content: [h("p", { text: message }), h("div", { class: "actions" }, cancel, ok)],
  });
  cancel.addEventListener("click", () => d.close("cancel"));
  ok.addEventListener("click", () => d.close("confirm"));
  cancel.focus();
  return d.closed.then((value) => value === "confirm");
}

/** Copies text; falls back to selecting an input when the clipboard API is refused. */
export async function copyText(text, fallbackInput) {
  try {
    await navigator.clipboard.writeText(text);
    announce("Copied to the clipboard.");
    return true;
  } catch {
    if (fallbackInput) {
      fallbackInput.focus();
      fallbackInput.select();
      announce("Press Ctrl+C (or ⌘C) to copy the selected text.");
    } else {
      announceError("The browser did not allow copying; select the text and copy it.");
    }
    return false;
  }
}

/** A "Copy" button bound to a value getter. */
export function copyButton(getText, label = "Copy", fallbackInput) {
  return h("button", {
    type: "button",
    class: "small",
    text: label,
    onclick: () => copyText(getText(), fallbackInput),
  });
}

/** Disables a button while an async action runs. */
export async function busy(button, action) {
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await action();
  } finally {
    button.disabled = wasDisabled;
    button.removeAttribute("aria-busy");
  }
}

// Keys view: list, create/edit, the one-time secret with the OpenCode setup,
// rotate, revoke and delete.
import { del, get, patch, post, seg } from "./api.js";
import { announce, busy, copyButton, field, h, openDialog, replace, submitForm } from "./dom.js";
import { card, cardActions, factList, statusBadge } from "./cards.js";
import { listLoader, reloadButton, viewHead } from "./view.js";
import { compact, dateTime, providerName, relative } from "./format.js";
import { keyForm } from "./key_form.js";
import { captureFact, openCaptures } from "./capture.js";

export function keysView(section) {
  const list = h("div", { class: "keys-list", "aria-busy": "true" });
  let accounts = [];
  const reload = listLoader(list, "Keys", async () => {
    const [keyData, accountData] = await Promise.all([
      get("/admin/keys"),
      get("/admin/accounts").catch(() => ({ accounts: [] })),
    ]);
    accounts = accountData?.accounts ?? [];
    renderKeys(list, keyData?.keys ?? [], accounts, reload);
  });
  replace(
    section,
    viewHead(
      "keys-title",
      "API keys",
      h("button", {
        type: "button",
        class: "primary",
        text: "Create key",
        onclick: () => openCreateKey(accounts, reload),
      }),
      reloadButton(reload),
    ),
    list,
  );
  reload();
  return { show: reload };
}

function keyState(key) {
  if (key.status === "revoked" || key.status === "expired" || key.status === "active") {
    return { id: key.status, text: key.status[0].toUpperCase() + key.status.slice(1) };
  }
  if (key.revokedAt) return { id: "revoked", text: "Revoked" };
  if (typeof key.expiresAt === "number" && key.expiresAt <= Date.now()) {
    return { id: "expired", text: "Expired" };
  }
  return { id: "active", text: "Active" };
}

function limitsText(limits) {
  const parts = [];
  if (limits?.requestsPerMinute) parts.push(`${limits.requestsPerMinute} req/min`);
  if (limits?.tokensPerDay) parts.push(`${compact(limits.tokensPerDay)} tokens/day`);
  if (limits?.concurrent) parts.push(`${limits.concurrent} at once`);
  return parts.length ? parts.join(" · ") : "none";
}

function renderKeys(list, keys, accounts, reload) {
  if (!keys.length) {
    replace(
      list,
      h("p", { class: "empty", text: "No API key yet. Create one to connect a coding agent." }),
    );
    return;
  }
  const sorted = [...keys].sort((a, b) =>
    (a.revokedAt ? 1 : 0) - (b.revokedAt ? 1 : 0) || (b.createdAt ?? 0) - (a.createdAt ?? 0)
  );
  replace(
    list,
    h("ul", { class: "cards" }, sorted.map((k) => h("li", {}, keyCard(k, accounts, reload)))),
  );
}

function keyCard(key, accounts, reload) {
  const id = seg(key.id);
  const state = keyState(key);
  const accountLabel = (accountId) => accounts.find((a) => a.id === accountId)?.label ?? accountId;
  const pinned = Object.entries(key.accounts ?? {}).map(([p, a]) =>
    `${providerName(p)}: ${accountLabel(a)}`
  );
  const { element: details, fact } = factList();
  fact("Providers", key.providers?.length ? key.providers.map(providerName).join(", ") : "all");
  fact("Models", key.models?.length ? key.models.join(", ") : "all");
  if (pinned.length) fact("Pinned accounts", pinned.join("; "));
  fact("Limits", limitsText(key.limits));
  fact(
    "Expires",
    typeof key.expiresAt === "number"
      ? `${dateTime(key.expiresAt)} (${relative(key.expiresAt)})`
      : "never",
  );
  fact("Last used", key.lastUsedAt ? relative(key.lastUsedAt) : "never");
  fact("Created", dateTime(key.createdAt));
  if (key.revokedAt) fact("Revoked", dateTime(key.revokedAt));
  fact("Request capture", captureFact(key));
  if (typeof key.previousValidUntil === "number" && !key.revokedAt) {
    fact(
      "Old secret works",
      `until ${dateTime(key.previousValidUntil)} (${relative(key.previousValidUntil)})`,
    );
  }

  const { element: actions, act, confirmAct, usageAct } = cardActions(reload);
  if (!key.revokedAt) {
    act("OpenCode setup", () => showSetup(key));
  }
  usageAct(key.label, `/admin/keys/${id}/usage`);
  if (!key.revokedAt) {
    act("Edit", () => openEditKey(key, accounts, reload));
    act("Rotate", () => openRotate(key, reload));
    act("Capture", () => openCaptures(key, reload));
    confirmAct(
      "Revoke",
      {
        title: "Revoke key",
        message:
          `Revoke “${key.label}” (${key.prefix}…)? Agents using it fail at once. This cannot be undone.`,
        confirmLabel: "Revoke key",
      },
      () => post(`/admin/keys/${id}/revoke`),
      `${key.label} was revoked.`,
    );
  } else {
    confirmAct(
      "Delete",
      {
        title: "Delete key",
        message:
          `Delete the revoked key “${key.label}” for good? Its usage history stays in the totals.`,
        confirmLabel: "Delete key",
      },
      () => del(`/admin/keys/${id}`),
      `${key.label} was deleted.`,
    );
  }

  return card(
    ["key", `key-${state.id}`],
    key.label,
    statusBadge(state.id, state.text),
    h("p", { class: "prefix" }, h("code", { text: `${key.prefix ?? ""}…` })),
    details,
    actions,
  );
}

/** OpenCode reads `${OPENCODE_MODELS_URL}/api.json`, so the variable is the URL without it. */
export function modelsUrl(discoveryUrl) {
  return String(discoveryUrl ?? "").replace(/\/api\.json$/, "");
}

function snippet(discoveryUrl, secret) {
  return [
    `export OPENCODE_MODELS_URL=${modelsUrl(discoveryUrl)}`,
    `export KLEIS_API_KEY=${secret}`,
    "opencode models --refresh",
  ].join("\n");
}

function showSetup(key) {
  const text = snippet(key.discoveryUrl, "<the key's secret>");
  openDialog({
    title: `OpenCode setup for ${key.label}`,
    wide: true,
    content: [
      h("p", {
        text:
          "Run this where OpenCode runs. The secret was shown when the key was created or rotated; rotate the key if it is lost.",
      }),
      h("pre", { class: "snippet" }, h("code", { text })),
      h("div", { class: "actions" }, copyButton(() => text, "Copy setup")),
    ],
  });
}

/** Shows a new secret once. Closing the dialog removes it from the page. */
export function showSecret(key, secret, heading) {
  const secretInput = h("input", {
    type: "text",
    readonly: true,
    value: secret,
    class: "mono secret",
    "aria-label": "New API key secret",
    spellcheck: "false",
  });
  const text = snippet(key?.discoveryUrl, secret);
  const done = h("button", { type: "button", class: "primary", text: "I have saved it" });
  const d = openDialog({
    title: heading,
    wide: true,
    content: [
      h("p", {
        class: "warning-box",
        text:
          "Copy the secret now. Kleis stores only its hash: it is shown this once and never again.",
      }),
      h(
        "div",
        { class: "secret-row" },
        secretInput,
        copyButton(() => secret, "Copy secret", secretInput),
      ),
      h("h3", { text: "OpenCode setup" }),
      h("pre", { class: "snippet" }, h("code", { text })),
      h("div", { class: "actions" }, copyButton(() => text, "Copy setup"), done),
    ],
    onClose: () => {
      secretInput.value = "";
    },
  });
  done.addEventListener("click", () => d.close());
  secretInput.focus();
  secretInput.select();
  return d.closed;
}

function openCreateKey(accounts, reload) {
  const form = keyForm({ accounts, submitLabel: "Create key" });
  const d = openDialog({ title: "Create an API key", content: form.element, wide: true });
  form.onSubmit(async (body) => {
    const answer = await post("/admin/keys", body);
    d.close();
    await reload();
    await showSecret(
      answer?.key,
      answer?.secret ?? "",
      `Key “${answer?.key?.label ?? body.label}” created`,
    );
  });
}

function openEditKey(key, accounts, reload) {
  const form = keyForm({ accounts, key, submitLabel: "Save" });
  const d = openDialog({ title: `Edit ${key.label}`, content: form.element, wide: true });
  form.onSubmit(async (body) => {
    await patch(`/admin/keys/${seg(key.id)}`, body);
    d.close();
    announce(`${body.label ?? key.label} was saved.`);
    await reload();
  });
}

function openRotate(key, reload) {
  const grace = field(
    "Grace period (seconds)",
    h("input", { type: "number", min: "0", step: "1", value: "3600", required: true }),
    "The old secret keeps working this long, so agents can switch over. 0 stops it at once.",
  );
  const { form, message, submit } = submitForm("Rotate", grace.row);
  const d = openDialog({ title: `Rotate ${key.label}`, content: form });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const graceSeconds = Number(grace.input.value);
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0) {
      message.textContent = "The grace period must be a whole number of seconds, 0 or more.";
      grace.input.focus();
      return;
    }
    await busy(submit, async () => {
      try {
        const answer = await post(`/admin/keys/${seg(key.id)}/rotate`, { graceSeconds });
        d.close();
        await reload();
        await showSecret(answer?.key ?? key, answer?.secret ?? "", `New secret for “${key.label}”`);
      } catch (error) {
        message.textContent = error.message;
      }
    });
  });
}

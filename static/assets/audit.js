// Audit log (newest first, paged with the API's cursor) and the encrypted
// backup export/restore.
import { api, get, post } from "./api.js";
import { announce, busy, confirmDialog, field, h, replace } from "./dom.js";
import { dateTime } from "./format.js";
import { reloadButton, viewHead } from "./view.js";
import { scheduledBackupsSection } from "./scheduled_backups.js";

const ACTION_LABELS = {
  "key.created": "Key created",
  "key.updated": "Key updated",
  "key.revoked": "Key revoked",
  "key.rotated": "Key rotated",
  "key.deleted": "Key deleted",
  "key.capture_started": "Request capture started",
  "key.capture_stopped": "Request capture stopped",
  "key.captures_deleted": "Captured requests deleted",
  "admin.login_failed": "Admin sign-in failed",
  "admin.lockout": "Admin sign-in locked out",
  "key.auth_lockout": "Key attempts locked out",
  "account.added": "Account added",
  "account.updated": "Account updated",
  "account.removed": "Account removed",
  "account.primary": "Primary account set",
  "account.refreshed": "Account refreshed",
  "account.refresh_failed": "Account refresh failed",
  "account.needs_login": "Account needs login",
  "backup.exported": "Backup exported",
  "backup.restored": "Backup restored",
  "backup.failed": "Scheduled backup failed",
  "alerts.updated": "Alert settings changed",
  "alert.sent": "Alert sent",
  "alert.failed": "Alert not delivered",
  "alias.set": "Alias saved",
  "alias.deleted": "Alias deleted",
};

const PAGE = 50;

function detailsText(details) {
  if (!details || typeof details !== "object") return "";
  return Object.entries(details).map(([k, v]) => `${k}: ${v === null ? "—" : String(v)}`).join(
    " · ",
  );
}

function row(entry) {
  const action = String(entry.action ?? "");
  const kind = action.split(".")[0] || "other";
  const failed = /failed|lockout|needs_login|revoked|removed|deleted/.test(action);
  return h(
    "tr",
    {},
    h(
      "td",
      { class: "nowrap", "data-label": "When" },
      h("time", { datetime: new Date(entry.at).toISOString(), text: dateTime(entry.at) }),
    ),
    h(
      "td",
      { "data-label": "Action" },
      h("span", {
        class: ["badge", `audit-${kind}`, failed ? "audit-warn" : ""],
        text: ACTION_LABELS[action] ?? action,
      }),
    ),
    h("td", { "data-label": "Actor", text: String(entry.actor ?? "") }),
    entry.target
      ? h("td", { "data-label": "Target" }, h("code", { text: String(entry.target) }))
      : h("td", { "data-label": "Target" }),
    h("td", { "data-label": "Address", text: String(entry.address ?? "") }),
    h("td", { class: "details", "data-label": "Details", text: detailsText(entry.details) }),
  );
}

export function auditView(section) {
  const tbody = h("tbody", {});
  const message = h("p", { class: "muted", "aria-live": "polite" });
  const more = h("button", { type: "button", text: "Load more" });
  const moreRow = h("div", { class: "actions start", hidden: true }, more);
  let cursor = null;
  let seq = 0;

  const load = async (append) => {
    const mine = ++seq;
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (append && cursor) query.set("cursor", cursor);
    try {
      const data = await get(`/admin/audit?${query}`);
      if (mine !== seq) return;
      const entries = data?.entries ?? data?.audit ?? data?.items ?? [];
      if (!append) tbody.replaceChildren();
      for (const entry of entries) tbody.append(row(entry));
      cursor = data?.cursor ?? data?.nextCursor ?? null;
      moreRow.hidden = !cursor;
      message.textContent = tbody.children.length
        ? (append ? `Loaded ${entries.length} more entries.` : "")
        : "Nothing in the audit log yet.";
    } catch (error) {
      if (mine !== seq) return;
      message.textContent = `The audit log could not be loaded: ${error.message}`;
    }
  };
  more.addEventListener("click", () => busy(more, () => load(true)));

  replace(
    section,
    viewHead("audit-title", "Audit log", reloadButton(() => load(false))),
    h(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Audit log entries" },
      h(
        "table",
        { class: "data audit stack-narrow" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["When", "Action", "Actor", "Target", "Address", "Details"].map((t) =>
              h("th", { scope: "col", text: t })
            ),
          ),
        ),
        tbody,
      ),
    ),
    message,
    moreRow,
    backupSection(),
    scheduledBackupsSection(),
  );
  load(false);
  return { show: () => load(false) };
}

function backupSection() {
  const exportButton = h("button", { type: "button", text: "Download backup" });
  const restoreFile = field(
    "Backup file",
    h("input", { type: "file", accept: ".json,application/json" }),
    "Restorable only with the same KLEIS_ENCRYPTION_KEY. Existing ids are updated; nothing else is removed.",
  );
  const restoreButton = h("button", { type: "submit", class: "primary", text: "Restore" });
  const message = h("p", { class: "form-message", role: "alert" });
  const result = h("div", {});

  exportButton.addEventListener("click", () =>
    busy(exportButton, async () => {
      try {
        const { text } = await api("GET", "/admin/export", undefined, { raw: true });
        const blob = new Blob([text], { type: "application/json" });
        const url = URL.createObjectURL(blob);
        const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
        const link = h("a", { href: url, download: `kleis-backup-${stamp}.json` });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        message.textContent = "";
        announce("Backup downloaded.");
      } catch (error) {
        message.textContent = `Export failed: ${error.message}`;
      }
    }));

  const form = h(
    "form",
    { class: "form restore" },
    restoreFile.row,
    h("div", { class: "actions" }, restoreButton),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = restoreFile.input.files?.[0];
    if (!file) {
      message.textContent = "Choose a backup file first.";
      restoreFile.input.focus();
      return;
    }
    const ok = await confirmDialog({
      title: "Restore backup",
      message:
        `Restore accounts and keys from ${file.name}? Existing ids are overwritten with the backup's version.`,
      confirmLabel: "Restore",
      danger: true,
    });
    if (!ok) return;
    replace(result);
    await busy(restoreButton, async () => {
      try {
        const text = await file.text();
        const answer = await post("/admin/restore", text);
        message.textContent = "";
        const accounts = Number(answer?.accounts ?? 0);
        const apiKeys = Number(answer?.apiKeys ?? 0);
        const skipped = Array.isArray(answer?.skipped) ? answer.skipped : [];
        const summary = `Restored ${accounts} account${accounts === 1 ? "" : "s"} and ${apiKeys} ` +
          `key${apiKeys === 1 ? "" : "s"}.`;
        replace(
          result,
          h("div", { class: "success-box", role: "status", text: summary }),
          skipped.length
            ? h(
              "div",
              { class: "warning-box" },
              h("p", { text: "Skipped:" }),
              h("ul", {}, skipped.map((s) => h("li", { text: String(s) }))),
            )
            : null,
        );
        announce(summary);
        restoreFile.input.value = "";
      } catch (error) {
        message.textContent = `Restore failed: ${error.message}`;
      }
    });
  });

  return h(
    "section",
    { class: "backup", "aria-labelledby": "backup-title" },
    h("h2", { id: "backup-title", text: "Backup and restore" }),
    h("p", {
      class: "muted",
      text: "The backup holds accounts and keys, encrypted. Keep it somewhere safe.",
    }),
    h("div", { class: "actions start" }, exportButton),
    form,
    message,
    result,
  );
}

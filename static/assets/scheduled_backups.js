// Scheduled off-site backups: where they go, the last run and the last
// success or failure (GET /admin/backups), and "Back up now".
import { get, post } from "./api.js";
import { announce, announceError, busy, h, replace } from "./dom.js";
import { factList, statusBadge } from "./cards.js";
import { dateTime, num } from "./format.js";

function outcomeText(run) {
  if (!run) return "never";
  const when = dateTime(run.at);
  if (run.ok) return `${when}: ${run.name} (${num(run.bytes)} bytes, ${run.accounts} accounts)`;
  if (run.skipped) return `${when}: skipped, ${run.skipped}`;
  return `${when}: failed after ${run.attempts} attempt${run.attempts === 1 ? "" : "s"}: ${
    run.error ?? "unknown error"
  }`;
}

function render(body, overview, reload) {
  if (!overview.configured) {
    replace(
      body,
      h("p", {
        class: "muted",
        text: "No scheduled backup: set KLEIS_BACKUP_TARGET (a directory, an S3 bucket or a " +
          "git remote) to have Kleis write the encrypted backup there on a schedule.",
      }),
      overview.restoreFrom
        ? h("p", { class: "muted", text: `Restores on start from ${overview.restoreFrom}.` })
        : null,
    );
    return;
  }
  const failing = overview.consecutiveFailures > 0;
  const facts = factList();
  facts.fact("Target", overview.target);
  facts.fact("Schedule", `${overview.schedule} (UTC), keeping the newest ${overview.keep}`);
  facts.fact("Last run", outcomeText(overview.lastRun));
  facts.fact("Last success", outcomeText(overview.lastSuccess));
  if (overview.lastFailure) facts.fact("Last failure", outcomeText(overview.lastFailure));
  if (overview.restoreFrom) facts.fact("Restores on start from", overview.restoreFrom);
  const runButton = h("button", { type: "button", text: "Back up now" });
  runButton.addEventListener("click", () =>
    busy(runButton, async () => {
      try {
        const outcome = await post("/admin/backups/run");
        if (outcome.ok) announce(`Backup written: ${outcome.name}.`);
        else announceError(`Backup failed: ${outcome.error ?? outcome.skipped ?? "unknown error"}`);
      } catch (error) {
        announceError(`Backup failed: ${error.message}`);
      }
      await reload();
    }));
  replace(
    body,
    h(
      "div",
      { class: "badges" },
      failing
        ? statusBadge("needs_login", `Failing (${overview.consecutiveFailures} in a row)`)
        : statusBadge("active", overview.lastSuccess ? "Working" : "Not run yet"),
    ),
    facts.element,
    h("div", { class: "actions start" }, runButton),
  );
}

/** The section; loads itself and reloads after "Back up now". */
export function scheduledBackupsSection() {
  const body = h("div", { "aria-live": "polite" }, h("p", { class: "muted", text: "Loading…" }));
  const reload = async () => {
    try {
      render(body, await get("/admin/backups"), reload);
    } catch (error) {
      replace(body, h("p", { class: "form-message", text: `Could not load: ${error.message}` }));
    }
  };
  reload();
  return h(
    "section",
    { class: "backup", "aria-labelledby": "scheduled-backup-title" },
    h("h2", { id: "scheduled-backup-title", text: "Scheduled backups" }),
    body,
  );
}

/**
 * The alert settings (one record at keys.alertSettings): the webhook URL,
 * the signing secret sealed like account tokens (src/crypto.ts), which
 * events are on, and the two thresholds. Alerts are off until a URL is set.
 * The secret never leaves this module in clear except to sign a delivery.
 */
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { auditRecord } from "../audit.ts";
import { seal, unseal } from "../crypto.ts";
import { conflict } from "../errors.ts";
import { keys } from "../kv/keys.ts";
import type { AlertSettingsRecord, AlertSettingsView, AlertType, EventSwitch } from "./types.ts";
import { EVENT_SWITCHES } from "./types.ts";

/** Bound as additional data: a sealed secret moved to another record does not open. */
const SECRET_CONTEXT = "alerts:webhook_secret";

const DEFAULT_SETTINGS: AlertSettingsRecord = {
  url: null,
  events: { needsLogin: true, quota: true, keyTokens: true, backupFailed: true },
  quotaThresholdPercent: 80,
  keyTokensThresholdPercent: 80,
  updatedAt: null,
};

const MAX_URL_LENGTH = 2_000;
const MIN_SECRET_LENGTH = 16;
const MAX_SECRET_LENGTH = 512;

/**
 * http or https, no user:password (credentials in a URL end up in logs and
 * answers; the signing secret is the way to authenticate Kleis), no fragment.
 */
const webhookUrl = z.string().trim().min(1).max(MAX_URL_LENGTH).superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be an absolute http or https URL" });
    return;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    ctx.addIssue({ code: "custom", message: "must use http or https" });
  } else if (url.username || url.password) {
    ctx.addIssue({
      code: "custom",
      message: "must not contain a user name or password (set a signing secret instead)",
    });
  } else if (url.hash) {
    ctx.addIssue({ code: "custom", message: "must not contain a fragment (#...)" });
  }
});

const percent = z.number().int().min(1).max(100);

export const alertSettingsPatchSchema = z.strictObject({
  /** null turns alerts off. */
  url: webhookUrl.nullable().optional(),
  /** A new secret; null removes it; absent keeps it. */
  secret: z.string().min(MIN_SECRET_LENGTH).max(MAX_SECRET_LENGTH).regex(
    /^[\x21-\x7e]+$/,
    "must be printable ASCII without spaces",
  ).nullable().optional(),
  events: z.strictObject({
    needsLogin: z.boolean().optional(),
    quota: z.boolean().optional(),
    keyTokens: z.boolean().optional(),
    backupFailed: z.boolean().optional(),
  }).optional(),
  quotaThresholdPercent: percent.optional(),
  keyTokensThresholdPercent: percent.optional(),
});
export type AlertSettingsPatch = z.output<typeof alertSettingsPatchSchema>;

export async function readAlertSettings(kv: Deno.Kv): Promise<AlertSettingsRecord> {
  return withDefaults((await kv.get<AlertSettingsRecord>(keys.alertSettings())).value);
}

/** The stored record with the defaults filled in (all defaults when nothing is stored). */
function withDefaults(stored: AlertSettingsRecord | null): AlertSettingsRecord {
  if (!stored) return DEFAULT_SETTINGS;
  return {
    ...DEFAULT_SETTINGS,
    ...stored,
    events: { ...DEFAULT_SETTINGS.events, ...stored.events },
  };
}

export function settingsView(settings: AlertSettingsRecord): AlertSettingsView {
  return {
    url: urlForAdmin(settings.url),
    secretSet: settings.sealedSecret !== undefined,
    events: { ...settings.events },
    quotaThresholdPercent: settings.quotaThresholdPercent,
    keyTokensThresholdPercent: settings.keyTokensThresholdPercent,
    updatedAt: settings.updatedAt,
  };
}

/** Whether alerts of this type go out at all (a URL is set and the event is on). */
export function alertsOn(settings: AlertSettingsRecord, type: AlertType): boolean {
  if (settings.url === null) return false;
  if (type === "alert.test") return true;
  const name = (Object.keys(EVENT_SWITCHES) as EventSwitch[]).find((k) =>
    EVENT_SWITCHES[k] === type
  );
  return name !== undefined && settings.events[name];
}

export async function openSecret(
  deps: Pick<Deps, "sealingKey">,
  settings: AlertSettingsRecord,
): Promise<string | undefined> {
  if (settings.sealedSecret === undefined) return undefined;
  return await unseal<string>(deps.sealingKey, settings.sealedSecret, SECRET_CONTEXT);
}

/**
 * The URL as admin answers show it: its origin, with "/***" standing for a
 * path or query (Slack-style webhook URLs carry their token there). A PATCH
 * without `url` keeps the stored URL, so the page never needs it back.
 */
export function urlForAdmin(url: string | null): string | null {
  if (url === null) return null;
  const parsed = new URL(url);
  const more = parsed.pathname !== "/" || parsed.search !== "";
  return more ? `${parsed.origin}/***` : parsed.origin;
}

/** What an audit entry or a log line may say about the URL: its origin only (paths can hold tokens). */
export function urlForLogs(url: string | null): string | null {
  if (url === null) return null;
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid)";
  }
}

/**
 * Applies a validated patch in one checked commit with its audit entry
 * (which names the changed fields and the URL's origin, never the secret).
 */
export async function updateAlertSettings(
  deps: Deps,
  patch: AlertSettingsPatch,
): Promise<AlertSettingsView> {
  const sealed = typeof patch.secret === "string"
    ? await seal(deps.sealingKey, patch.secret, SECRET_CONTEXT, deps.random)
    : undefined;
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = await deps.kv.get<AlertSettingsRecord>(keys.alertSettings());
    const current = withDefaults(entry.value);
    const next: AlertSettingsRecord = {
      ...current,
      events: { ...current.events },
      updatedAt: deps.now(),
    };
    if (patch.url !== undefined) next.url = patch.url;
    if (sealed !== undefined) next.sealedSecret = sealed;
    if (patch.secret === null) delete next.sealedSecret;
    for (const [name, on] of Object.entries(patch.events ?? {}) as [EventSwitch, boolean][]) {
      if (on !== undefined) next.events[name] = on;
    }
    if (patch.quotaThresholdPercent !== undefined) {
      next.quotaThresholdPercent = patch.quotaThresholdPercent;
    }
    if (patch.keyTokensThresholdPercent !== undefined) {
      next.keyTokensThresholdPercent = patch.keyTokensThresholdPercent;
    }
    const audit = auditRecord(deps, {
      action: "alerts.updated",
      actor: "admin",
      details: {
        changed: Object.keys(patch).sort().join(","),
        url: urlForLogs(next.url),
        secretSet: next.sealedSecret !== undefined,
      },
    });
    const result = await deps.kv.atomic()
      .check(entry)
      .set(keys.alertSettings(), next)
      .set(audit.key, audit.value, { expireIn: audit.expireIn })
      .commit();
    if (result.ok) return settingsView(next);
  }
  throw conflict("write_conflict", "The alert settings kept changing; try again.");
}

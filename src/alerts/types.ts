/**
 * The records of the alerts area: what an alert says (the webhook body,
 * docs/api.md#alerts), the settings as stored, and a delivery's state.
 */

/** The events an alert can be raised for; `alert.test` is the admin's "send test alert". */
export const ALERT_TYPES = [
  "account.needs_login",
  "account.quota",
  "key.tokens",
  "backup.failed",
  "alert.test",
] as const;
export type AlertType = typeof ALERT_TYPES[number];

/** The switch of each event in the settings (the test alert has none: it is always sent). */
export const EVENT_SWITCHES = {
  needsLogin: "account.needs_login",
  quota: "account.quota",
  keyTokens: "key.tokens",
  backupFailed: "backup.failed",
} as const satisfies Record<string, Exclude<AlertType, "alert.test">>;
export type EventSwitch = keyof typeof EVENT_SWITCHES;
export type AlertEvents = Record<EventSwitch, boolean>;

/** What the alert is about: an account, an API key, the backup, or Kleis itself (test). */
export interface AlertSubject {
  kind: "account" | "key" | "backup" | "kleis";
  id: string;
  label?: string;
  provider?: string;
}

/** The JSON body POSTed to the webhook; the same for every attempt of one alert. */
export interface AlertBody {
  /** Stable across retries: receivers de-duplicate on it. */
  id: string;
  type: AlertType;
  /** When the event was seen (ISO 8601, UTC). */
  time: string;
  /** One line for humans. */
  summary: string;
  subject: AlertSubject;
  details: Record<string, string | number | boolean | null>;
}

/** The settings as stored at keys.alertSettings. */
export interface AlertSettingsRecord {
  url: string | null;
  /** seal(secret, SECRET_CONTEXT) (src/crypto.ts); absent when no secret is set. */
  sealedSecret?: string;
  events: AlertEvents;
  /** A quota window alerts once its used share reaches this many percent. */
  quotaThresholdPercent: number;
  /** A key alerts once its tokens today reach this share of its tokensPerDay. */
  keyTokensThresholdPercent: number;
  updatedAt: number | null;
}

/** What the admin API answers: never the secret, only whether one is set. */
export interface AlertSettingsView {
  url: string | null;
  secretSet: boolean;
  events: AlertEvents;
  quotaThresholdPercent: number;
  keyTokensThresholdPercent: number;
  updatedAt: number | null;
}

/** One alert and its delivery state, at keys.alertDelivery(id). */
export interface AlertDelivery {
  body: AlertBody;
  state: "pending" | "sent" | "failed";
  /** Attempts made so far. */
  attempts: number;
  lastError?: string;
  lastStatus?: number;
  updatedAt: number;
}

// Formatting of API values for display. Pure functions, no DOM.

export const PROVIDERS = [
  { id: "copilot", name: "GitHub Copilot" },
  { id: "codex", name: "OpenAI Codex" },
  { id: "claude", name: "Anthropic Claude" },
];

export function providerName(id) {
  return PROVIDERS.find((p) => p.id === id)?.name ?? String(id);
}

export const WINDOWS = [
  { label: "1 h", ms: 3_600_000 },
  { label: "24 h", ms: 86_400_000 },
  { label: "7 d", ms: 7 * 86_400_000 },
  { label: "30 d", ms: 30 * 86_400_000 },
];

const numberFormat = new Intl.NumberFormat();
const compactFormat = new Intl.NumberFormat(undefined, {
  notation: "compact",
  maximumFractionDigits: 1,
});

export function num(value) {
  return typeof value === "number" && Number.isFinite(value) ? numberFormat.format(value) : "—";
}

export function compact(value) {
  return typeof value === "number" && Number.isFinite(value) ? compactFormat.format(value) : "—";
}

export function percent(fraction, digits = 0) {
  if (typeof fraction !== "number" || !Number.isFinite(fraction)) return "—";
  return `${(fraction * 100).toFixed(digits)} %`;
}

export function ms(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  return `${Math.round(value)} ms`;
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

export function dateTime(value) {
  return typeof value === "number" && Number.isFinite(value)
    ? dateTimeFormat.format(new Date(value))
    : "—";
}

/** Axis label for a time bucket: hours for short windows, days for long ones. */
export function axisTime(value, windowMs) {
  return windowMs > 2 * 86_400_000
    ? dayFormat.format(new Date(value))
    : timeFormat.format(new Date(value));
}

/** "3 h 12 min", "45 s": a duration in the two largest units. */
export function duration(totalMs, withSeconds = false) {
  let seconds = Math.max(0, Math.floor(Math.abs(totalMs) / 1000));
  const days = Math.floor(seconds / 86400);
  seconds -= days * 86400;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  // Two units normally; a countdown (withSeconds) shows three so it visibly ticks below a day.
  const max = withSeconds ? 3 : 2;
  const parts = [];
  if (days) parts.push(`${days} d`);
  if (hours) parts.push(`${hours} h`);
  if (minutes && parts.length < max && !(withSeconds && days)) parts.push(`${minutes} min`);
  if ((withSeconds || parts.length === 0) && parts.length < max && !days) {
    parts.push(`${withSeconds && parts.length ? String(seconds).padStart(2, "0") : seconds} s`);
  }
  return parts.join(" ");
}

/** "in 5 min" / "5 min ago". */
export function relative(value, now = Date.now()) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  const diff = value - now;
  if (Math.abs(diff) < 1000) return "now";
  return diff > 0 ? `in ${duration(diff)}` : `${duration(diff)} ago`;
}

/** Countdown to token expiry, ticking each second. */
export function expiryCountdown(expiresAt, now = Date.now()) {
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) return "does not expire";
  const diff = expiresAt - now;
  if (diff <= 0) return `expired ${duration(diff)} ago`;
  return `in ${duration(diff, true)}`;
}

/** Change against the previous window, e.g. "+12 %" or "new". */
export function change(current, previous) {
  if (typeof current !== "number" || typeof previous !== "number") return null;
  if (previous === 0) {
    return current === 0 ? { text: "±0", direction: 0 } : { text: "new", direction: 1 };
  }
  const delta = (current - previous) / previous;
  const rounded = Math.round(delta * 100);
  return {
    text: `${rounded > 0 ? "+" : rounded < 0 ? "−" : "±"}${Math.abs(rounded)} %`,
    direction: Math.sign(rounded),
  };
}

export function successRate(counters) {
  const requests = counters?.requests ?? 0;
  if (!requests) return undefined;
  return (counters.status2xx ?? 0) / requests;
}

export function totalTokens(counters) {
  return (counters?.inputTokens ?? 0) + (counters?.outputTokens ?? 0) +
    (counters?.cacheReadTokens ?? 0) + (counters?.cacheWriteTokens ?? 0);
}

export const STATUS_LABELS = {
  active: "Active",
  expiring: "Expiring",
  expired: "Expired",
  cooling_down: "Cooling down",
  needs_login: "Needs login",
  disabled: "Disabled",
};

/** A datetime-local input value for a timestamp, and back. */
export function toLocalInput(value) {
  if (typeof value !== "number") return "";
  const d = new Date(value);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${
    pad(d.getMinutes())
  }`;
}

export function fromLocalInput(value) {
  if (!value) return undefined;
  const t = new Date(value).getTime();
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Structured logging, one JSON line per entry, with secrets scrubbed from
 * every string: OAuth tokens, Kleis keys, JWTs and bearer values are
 * replaced by a marker before anything is written.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const SECRET_PATTERNS: RegExp[] = [
  /\bkleis_[A-Za-z0-9]{8,}/g,
  /\bgh[opsur]_[A-Za-z0-9_]{8,}/g,
  /\bsk-ant-[A-Za-z0-9_-]{8,}/g,
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  /\brt_[A-Za-z0-9_.-]{8,}/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
  // Copilot API tokens from the token exchange: "tid=...;exp=...;...:signature".
  /\btid=[^\s"',]{8,}/g,
  /(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
];

/** Replaces anything that looks like a credential with "[redacted]". */
export function redact(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(
      pattern,
      (_match, prefix) => typeof prefix === "string" ? `${prefix}[redacted]` : "[redacted]",
    );
  }
  return out;
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redact(value);
  if (value instanceof Error) return redact(`${value.name}: ${value.message}`);
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]),
  );
}

export function createLogger(
  write: (line: string) => void = (line) => console.error(line),
  minLevel: LogLevel = "info",
): Logger {
  const order: LogLevel[] = ["debug", "info", "warn", "error"];
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (order.indexOf(level) < order.indexOf(minLevel)) return;
    const entry = { time: new Date().toISOString(), level, message: redact(message) };
    write(JSON.stringify(fields ? { ...entry, ...scrub(fields) as object } : entry));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

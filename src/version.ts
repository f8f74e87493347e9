/** Kleis release version, reported by /healthz and the admin page. */
export const VERSION = "0.1.0";

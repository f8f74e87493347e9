/** The subscription backends Kleis holds accounts for. */
export const PROVIDER_IDS = ["copilot", "codex", "claude"] as const;
export type ProviderId = typeof PROVIDER_IDS[number];

export function isProviderId(value: unknown): value is ProviderId {
  return typeof value === "string" && (PROVIDER_IDS as readonly string[]).includes(value);
}

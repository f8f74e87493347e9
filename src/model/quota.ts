/** Quota headroom of an account, as the providers report it (normalised). */

export interface QuotaWindow {
  name: string;
  /** 0..1 */
  usedFraction: number;
  /** ms since the epoch */
  resetsAt?: number;
}

/** What an account's quota endpoint says (the admin's account view). */
export interface ProviderQuota {
  plan?: string;
  windows: QuotaWindow[];
}

/** Quota headroom carried by a proxied answer's headers. */
export interface QuotaReading {
  windows: QuotaWindow[];
  /** The raw rate-limit headers, for the admin's quota view. */
  headers: Record<string, string>;
}

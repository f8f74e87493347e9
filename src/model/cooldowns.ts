/** Cooldowns: an account (model "*") or one model of it rests until a reset time the backend named. */

/** As stored in KV, keyed by account and model. */
export interface CooldownRecord {
  /** ms since the epoch */
  until: number;
  reason: string;
  /** The backend status that caused it (429, 402, 401, ...). */
  status: number;
}

export interface Cooldown {
  accountId: string;
  /** A model id, or "*" for the whole account. */
  model: string;
  until: number;
  reason: string;
  status: number;
}

/**
 * Input schemas of the key admin API, checked with parseInput()
 * (src/request_input.ts): a 400 in the kleis shape naming the bad field.
 */
import { z } from "zod";
import { PROVIDER_IDS } from "../model/providers.ts";
import type { KeyLimits } from "../model/keys.ts";

const MAX_LIMIT = 1_000_000_000;
export const MAX_GRACE_SECONDS = 7 * 24 * 60 * 60;

const providerId = z.enum(PROVIDER_IDS, {
  error: (issue) =>
    `must be one of ${PROVIDER_IDS.join(", ")} (got ${JSON.stringify(issue.input)})`,
});

/** Epoch milliseconds, or an ISO 8601 date-time for convenience in curl. */
const timestamp = z.union([
  z.number().int().positive(),
  z.iso.datetime({ offset: true }).transform((text) => Date.parse(text)),
], { error: "must be epoch milliseconds or an ISO 8601 date-time" });

const limits = z.strictObject({
  requestsPerMinute: z.number().int().min(1).max(MAX_LIMIT).optional(),
  tokensPerDay: z.number().int().min(1).max(MAX_LIMIT).optional(),
  concurrent: z.number().int().min(1).max(10_000).optional(),
}).transform((value): KeyLimits => {
  const out: KeyLimits = {};
  if (value.requestsPerMinute !== undefined) out.requestsPerMinute = value.requestsPerMinute;
  if (value.tokensPerDay !== undefined) out.tokensPerDay = value.tokensPerDay;
  if (value.concurrent !== undefined) out.concurrent = value.concurrent;
  return out;
});

const fields = {
  label: z.string().trim().min(1).max(100),
  providers: z.array(providerId).min(1).max(PROVIDER_IDS.length),
  models: z.array(z.string().trim().min(1).max(200)).min(1).max(200),
  accounts: z.partialRecord(providerId, z.string().trim().min(1).max(200)),
  expiresAt: timestamp,
  limits,
};

export const createKeySchema = z.strictObject({
  label: fields.label,
  providers: fields.providers.optional(),
  models: fields.models.optional(),
  accounts: fields.accounts.optional(),
  expiresAt: fields.expiresAt.optional(),
  limits: fields.limits.optional(),
});

/** PATCH: every field optional; null clears an optional field (all providers, no expiry, ...). */
export const updateKeySchema = z.strictObject({
  label: fields.label.optional(),
  providers: fields.providers.nullable().optional(),
  models: fields.models.nullable().optional(),
  accounts: fields.accounts.nullable().optional(),
  expiresAt: fields.expiresAt.nullable().optional(),
  limits: fields.limits.nullable().optional(),
});

export const rotateKeySchema = z.strictObject({
  graceSeconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).optional(),
});

export type CreateKeyInput = z.output<typeof createKeySchema>;
export type UpdateKeyInput = z.output<typeof updateKeySchema>;

/**
 * The admin side of model aliases (docs/api.md#model-aliases): create or
 * replace, delete, list. Every change is checked before anything is written
 * and is written in one commit with its audit entry.
 *
 * Rules:
 * - A name is 1-64 letters, digits, `.`, `_`, `:` or `-`, starting with a
 *   letter or digit. It has no `/`, so a provider-qualified id
 *   (`anthropic/claude-sonnet-4-5`) always names the real model.
 * - A name may not be the id of a model Kleis offers when it is set (409
 *   `alias_conflict`): routing by plain id would otherwise be ambiguous. An
 *   alias named like a model only another provider serves (a rename) is fine.
 * - The target is `<provider prefix>/<model>` (`copilot/gpt-5-mini`, also
 *   `github-copilot/`, `codex/`, `openai/`, `claude/`, `anthropic/`); the model
 *   may carry an effort suffix (`codex/gpt-5.5-high`). A target always names
 *   a provider's model, never another alias, so aliases cannot chain or loop.
 *   It need not be offered right now (Copilot's list changes with accounts and
 *   plans); the view says whether it is (`available`).
 */
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { auditRecord } from "../audit.ts";
import { badRequest, conflict, notFound } from "../errors.ts";
import { keys } from "../kv/keys.ts";
import { PROVIDER_IDS, type ProviderId } from "../model/providers.ts";
import { proxyAdapter } from "../providers/mod.ts";
import { invalidateAliases, listAliasRecords, type ModelAlias } from "./aliases.ts";
import { aliasTargetOffer } from "./alias_offers.ts";
import { modelsForKey, type OfferedModel } from "./service.ts";

export const MAX_ALIASES = 200;
const ALIAS_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const TARGET_MODEL = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,199}$/;

export const setAliasSchema = z.strictObject({
  target: z.string().trim().min(3).max(230),
});

export interface AliasView {
  name: string;
  /** Provider-qualified: "copilot/gpt-5-mini". */
  target: string;
  provider: ProviderId;
  model: string;
  /** Whether Kleis offers the target now (an enabled account serves it). */
  available: boolean;
  createdAt: number;
  updatedAt: number;
}

function checkName(name: string): void {
  if (!ALIAS_NAME.test(name)) {
    throw badRequest(
      "invalid_request",
      `Invalid "name": an alias is 1-64 letters, digits, ".", "_", ":" or "-", ` +
        `starting with a letter or digit.`,
    );
  }
}

/** The provider and model of a target such as "copilot/gpt-5-mini". */
export function parseAliasTarget(target: string): { provider: ProviderId; model: string } {
  for (const provider of PROVIDER_IDS) {
    const prefix = proxyAdapter(provider).modelPrefixes.find((p) => target.startsWith(p));
    if (prefix === undefined) continue;
    const model = target.slice(prefix.length);
    if (!TARGET_MODEL.test(model)) {
      throw badRequest(
        "invalid_request",
        `Invalid "target": "${model.slice(0, 200)}" is not a model id ` +
          `(letters, digits, ".", "_", ":", "@", "+", "-"; at most 200).`,
      );
    }
    return { provider, model };
  }
  const prefixes = PROVIDER_IDS.flatMap((p) => proxyAdapter(p).modelPrefixes).join(", ");
  throw badRequest(
    "invalid_request",
    `Invalid "target": it must name a provider and a model, such as "copilot/gpt-5-mini" ` +
      `(prefixes: ${prefixes}).`,
  );
}

/** Every model Kleis offers, whatever the key (the accounts alone decide). */
function allOffered(deps: Deps): Promise<readonly OfferedModel[]> {
  return modelsForKey(deps, {});
}

export function aliasView(alias: ModelAlias, offered: readonly OfferedModel[]): AliasView {
  return {
    name: alias.name,
    target: `${alias.provider}/${alias.model}`,
    provider: alias.provider,
    model: alias.model,
    available: aliasTargetOffer(alias, offered) !== undefined,
    createdAt: alias.createdAt,
    updatedAt: alias.updatedAt,
  };
}

export async function listAliasViews(deps: Deps): Promise<AliasView[]> {
  const [aliases, offered] = await Promise.all([listAliasRecords(deps.kv), allOffered(deps)]);
  return aliases.map((a) => aliasView(a, offered));
}

export async function getAliasView(deps: Deps, name: string): Promise<AliasView> {
  const entry = await deps.kv.get<ModelAlias>(keys.modelAlias(name));
  if (!entry.value) throw notFound(`The alias "${name.slice(0, 64)}"`);
  return aliasView(entry.value, await allOffered(deps));
}

/** Creates or replaces an alias. */
export async function setAlias(
  deps: Deps,
  name: string,
  input: z.output<typeof setAliasSchema>,
): Promise<{ alias: AliasView; created: boolean }> {
  checkName(name);
  const { provider, model } = parseAliasTarget(input.target);
  const offered = await allOffered(deps);
  const clash = offered.find((m) => m.id === name);
  if (clash) {
    throw conflict(
      "alias_conflict",
      `"${name}" is the id of a model Kleis offers (${clash.listedId}); ` +
        `an alias may not hide it. Choose another name.`,
    );
  }
  const key = keys.modelAlias(name);
  const current = await deps.kv.get<ModelAlias>(key);
  if (!current.value && (await listAliasRecords(deps.kv)).length >= MAX_ALIASES) {
    throw conflict("too_many_aliases", `Kleis holds at most ${MAX_ALIASES} aliases.`);
  }
  const now = deps.now();
  const alias: ModelAlias = {
    name,
    provider,
    model,
    createdAt: current.value?.createdAt ?? now,
    updatedAt: now,
  };
  const audit = auditRecord(deps, {
    action: "alias.set",
    actor: "admin",
    target: name,
    details: {
      target: `${provider}/${model}`,
      previous: current.value ? `${current.value.provider}/${current.value.model}` : null,
    },
  });
  const result = await deps.kv.atomic()
    .check(current)
    .set(key, alias)
    .set(audit.key, audit.value, { expireIn: audit.expireIn })
    .commit();
  if (!result.ok) {
    throw conflict("alias_changed", `The alias "${name}" changed meanwhile; try again.`);
  }
  invalidateAliases(deps);
  return { alias: aliasView(alias, offered), created: !current.value };
}

export async function deleteAlias(deps: Deps, name: string): Promise<void> {
  const key = keys.modelAlias(name);
  const current = await deps.kv.get<ModelAlias>(key);
  if (!current.value) throw notFound(`The alias "${name.slice(0, 64)}"`);
  const audit = auditRecord(deps, {
    action: "alias.deleted",
    actor: "admin",
    target: name,
    details: { target: `${current.value.provider}/${current.value.model}` },
  });
  const result = await deps.kv.atomic()
    .check(current)
    .delete(key)
    .set(audit.key, audit.value, { expireIn: audit.expireIn })
    .commit();
  if (!result.ok) {
    throw conflict("alias_changed", `The alias "${name}" changed meanwhile; try again.`);
  }
  invalidateAliases(deps);
}

/**
 * The call of a request on a route of one provider (`/openai/v1/responses`,
 * `/copilot/v1/...`): the model id resolved on that provider (an alias of
 * its model, the route's prefix stripped, an effort suffix read:
 * model_variants.ts), and the client's body with the suffix's effort written
 * in the endpoint's own field (effort_body.ts).
 */
import type { Deps } from "../deps.ts";
import type { JsonObject } from "../json.ts";
import type { ApiKeyRecord } from "../model/keys.ts";
import type { ApiShape } from "../translate/translation.ts";
import type { CallPlan } from "./call_plan.ts";
import { applyEffort } from "./effort_body.ts";
import { nativeVariant } from "./model_variants.ts";
import type { ProxyEndpoint } from "./proxy_service.ts";

/** The API a provider endpoint speaks, where it has an effort field. */
const ENDPOINT_API: Record<string, ApiShape> = {
  "/responses": "responses",
  "/chat/completions": "chat",
  "/messages": "messages",
};

export async function nativePlan(
  deps: Deps,
  target: ProxyEndpoint,
  body: JsonObject,
  raw: string,
  key: ApiKeyRecord,
): Promise<CallPlan> {
  const provider = target.provider!;
  const variant = await nativeVariant(deps, key, provider, raw);
  const { model, effort, split } = variant;
  const plan = { provider, model, ...(effort === undefined ? {} : { effort }) };
  const api = ENDPOINT_API[target.endpoint];
  if (effort === undefined || api === undefined) {
    return { ...plan, build: () => ({ endpoint: target.endpoint }) };
  }
  // Written now: a suffix the endpoint cannot carry is a 400, which comes before the 403s.
  const limit = variant.offered?.facts.limit.output;
  const sent = applyEffort(api, body, effort, split!.family, limit);
  return {
    ...plan,
    build: () => ({ endpoint: target.endpoint, body: sent, rawBody: JSON.stringify(sent) }),
  };
}

/**
 * Copilot login: the GitHub device flow
 * (docs/providers/copilot.md#login-the-github-device-flow). start() asks for
 * a device code; each complete() makes exactly one poll.
 */
import type { Deps } from "../../deps.ts";
import { LoginFlowError } from "../common/errors.ts";
import { callProvider, num, readJsonObject, str } from "../common/http.ts";
import type {
  LoginCompleteInput,
  LoginStart,
  LoginStartInput,
  LoginStep,
} from "../account_types.ts";
import {
  ACCESS_TOKEN_PATH,
  COPILOT_CLIENT_ID,
  COPILOT_SCOPE,
  DEVICE_CODE_PATH,
  DEVICE_GRANT_TYPE,
  POLL_MARGIN_MS,
  USER_AGENT,
} from "./constants.ts";
import { githubOrigin, normaliseEnterpriseDomain } from "./hosts.ts";
import { githubLogin } from "./github.ts";

const HEADERS = {
  Accept: "application/json",
  "Content-Type": "application/json",
  "User-Agent": USER_AGENT,
};

export async function startCopilotLogin(deps: Deps, input: LoginStartInput): Promise<LoginStart> {
  if (input.mode === "browser") {
    throw new LoginFlowError(400, "unsupported_mode", "Copilot logins use the device flow only.");
  }
  const domain = normaliseEnterpriseDomain(input.enterpriseDomain);
  const res = await callProvider(deps, githubOrigin(deps, domain) + DEVICE_CODE_PATH, {
    method: "POST",
    headers: HEADERS,
    body: JSON.stringify({ client_id: COPILOT_CLIENT_ID, scope: COPILOT_SCOPE }),
  });
  const body = await readJsonObject(res);
  const deviceCode = str(body?.["device_code"]);
  const userCode = str(body?.["user_code"]);
  const verificationUri = str(body?.["verification_uri"]);
  if (!res.ok || !deviceCode || !userCode || !verificationUri) {
    throw new LoginFlowError(
      502,
      "login_start_failed",
      `GitHub did not start the device flow (${str(body?.["error"]) ?? `HTTP ${res.status}`}).`,
    );
  }
  const interval = num(body?.["interval"]) ?? 5;
  return {
    kind: "copilot_device",
    method: "device",
    authorizationUrl: verificationUri,
    userCode,
    instructions:
      `Open ${verificationUri}, enter the code ${userCode} and authorise, then press Complete.`,
    expiresInMs: (num(body?.["expires_in"]) ?? 900) * 1000,
    intervalMs: interval * 1000 + POLL_MARGIN_MS,
    secret: { deviceCode },
    meta: domain ? { enterpriseDomain: domain } : {},
  };
}

export async function completeCopilotLogin(
  deps: Deps,
  input: LoginCompleteInput,
): Promise<LoginStep> {
  const domain = input.meta["enterpriseDomain"] || undefined;
  const res = await callProvider(deps, githubOrigin(deps, domain) + ACCESS_TOKEN_PATH, {
    method: "POST",
    headers: HEADERS,
    body: JSON.stringify({
      client_id: COPILOT_CLIENT_ID,
      device_code: input.secret["deviceCode"],
      grant_type: DEVICE_GRANT_TYPE,
    }),
  });
  // GitHub answers 200 even for errors: the `error` field decides.
  const body = await readJsonObject(res);
  const error = str(body?.["error"]);
  const token = str(body?.["access_token"]);
  if (error === "authorization_pending") return { status: "pending" };
  if (error === "slow_down") {
    const next = num(body?.["interval"]);
    const intervalMs = next !== undefined
      ? next * 1000 + POLL_MARGIN_MS
      : (input.intervalMs ?? 5_000) + 5_000;
    return { status: "pending", intervalMs };
  }
  if (error === "expired_token") {
    throw new LoginFlowError(
      410,
      "flow_expired",
      "The device code expired; start the login again.",
    );
  }
  if (error === "access_denied") {
    throw new LoginFlowError(400, "login_denied", "The login was denied on GitHub.");
  }
  if (error || !token || !res.ok) {
    throw new LoginFlowError(
      502,
      "login_failed",
      `GitHub did not complete the login (${error ?? `HTTP ${res.status}`}).`,
    );
  }
  return { status: "complete", login: await githubLogin(deps, domain, token) };
}

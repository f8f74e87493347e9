/**
 * Reads what an admin pastes back after a browser login: the full callback
 * URL, `code#state`, a query string (`code=...&state=...`), or a bare code.
 */
import { LoginFlowError } from "./errors.ts";

export interface PastedCode {
  code: string;
  state?: string;
}

export function parsePastedCode(input: string): PastedCode {
  const text = input.trim();
  let code: string | null = null;
  let state: string | null = null;
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new LoginFlowError(400, "invalid_code", "The pasted callback URL is not a valid URL.");
    }
    code = url.searchParams.get("code");
    state = url.searchParams.get("state");
    // The Claude callback page shows `code#state`; a URL may carry it that way too.
    if (!state && url.hash.length > 1) state = url.hash.slice(1);
  } else if (/(^|[?&])code=/.test(text)) {
    const params = new URLSearchParams(text.replace(/^\?/, ""));
    code = params.get("code");
    state = params.get("state");
  } else if (text.includes("#")) {
    const at = text.indexOf("#");
    code = text.slice(0, at);
    state = text.slice(at + 1);
  } else {
    code = text;
  }
  code = code?.trim() ?? "";
  if (!code || /\s/.test(code)) {
    throw new LoginFlowError(400, "invalid_code", "No authorization code was found in `code`.");
  }
  return state ? { code, state: state.trim() } : { code };
}

/** A present state must equal the one the flow started with. */
export function checkState(pasted: PastedCode, expected: string): void {
  if (pasted.state !== undefined && pasted.state !== expected) {
    throw new LoginFlowError(
      400,
      "state_mismatch",
      "The pasted state does not match this login; start the login again.",
    );
  }
}

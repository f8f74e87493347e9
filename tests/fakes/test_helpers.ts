/** Request helpers shared by the fakes' own tests. */
import { CLAUDE_IDENTITY_PROMPT } from "./anthropic.ts";

export const CODEX_FIXTURE_ACCESS =
  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJodHRwczovL2FwaS5vcGVuYWkuY29tL2F1dGgiOnsiY2hhdGdwdF9hY2NvdW50X2lkIjoiYWNjdC1maXh0dXJlLTAwMDEiLCJjaGF0Z3B0X3BsYW5fdHlwZSI6InBybyJ9LCJodHRwczovL2FwaS5vcGVuYWkuY29tL3Byb2ZpbGUiOnsiZW1haWwiOiJkZXZAZXhhbXBsZS5jb20ifSwiZXhwIjoxODkzNDU2MDAwLCJpYXQiOjE4OTI1OTIwMDB9.c2lnbmF0dXJl";
export async function call(
  url: string,
  init: RequestInit = {},
): Promise<{ res: Response; text: string }> {
  const res = await fetch(url, init);
  return { res, text: await res.text() };
}

export function post(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

export function form(fields: Record<string, string>): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  };
}

export const claudeHeaders = (token = "sk-ant-oat01-fixture-access") => ({
  authorization: `Bearer ${token}`,
  "anthropic-version": "2023-06-01",
  "anthropic-beta": "claude-code-20250219,oauth-2025-04-20",
});

export const claudeBody = (extra: Record<string, unknown> = {}) => ({
  model: "claude-sonnet-4-5",
  max_tokens: 100,
  system: [{ type: "text", text: CLAUDE_IDENTITY_PROMPT }],
  messages: [{ role: "user", content: "hi" }],
  ...extra,
});

export const codexHeaders = {
  authorization: `Bearer ${CODEX_FIXTURE_ACCESS}`,
  "chatgpt-account-id": "acct-fixture-0001",
};

export const codexBody = (extra: Record<string, unknown> = {}) => ({
  model: "gpt-5.5",
  instructions: "Be brief.",
  input: [{ role: "user", content: [{ type: "input_text", text: "hi" }] }],
  store: false,
  stream: true,
  ...extra,
});

export const copilotHeaders = (token = "gho_fixtureOpenCodeToken0001") => ({
  authorization: `Bearer ${token}`,
  "openai-intent": "conversation-edits",
  "x-initiator": "user",
});

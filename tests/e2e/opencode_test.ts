/**
 * The real OpenCode CLI against a real Kleis process and the backend fakes:
 * accounts imported and a key created through the admin API, OpenCode
 * pointed at the key's discovery URL, one `opencode run` per provider.
 * Needs tests/support/install_opencode.sh to have run (CI does).
 */
import assert from "node:assert/strict";
import { startAllFakes } from "../fakes/mod.ts";
import { startKleis } from "../support/kleis_process.ts";
import {
  jsonEvents,
  OPENCODE_BIN,
  opencodeInstalled,
  opencodeSandbox,
  runOpencode,
} from "../support/opencode.ts";

async function admin(
  kleis: { url: string; adminToken: string },
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${kleis.url}/admin${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${kleis.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  assert.ok(res.ok, `POST /admin${path} answered ${res.status}: ${JSON.stringify(answer)}`);
  return answer;
}

/** The assistant text of a `--format json` run. */
function replyText(stdout: string): string {
  return jsonEvents(stdout)
    .filter((e) => e.type === "text")
    .map((e) => (e.part as { text?: string } | undefined)?.text ?? "")
    .join("");
}

Deno.test({
  name: "OpenCode runs one model of each provider through Kleis",
  // Child processes (Kleis, OpenCode) and the fakes' servers outlive single steps.
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  assert.ok(
    await opencodeInstalled(),
    `OpenCode is not installed at ${OPENCODE_BIN}: run tests/support/install_opencode.sh`,
  );
  const fakes = await startAllFakes();
  const kleis = await startKleis({ env: fakes.env });
  try {
    const codex = fakes.world.issueCodexTokens();
    const claude = fakes.world.issueClaudeTokens();
    await admin(kleis, "/accounts/codex/import", {
      accessToken: codex.access_token,
      refreshToken: codex.refresh_token,
    });
    await admin(kleis, "/accounts/claude/import", {
      accessToken: claude.access_token,
      refreshToken: claude.refresh_token,
      expiresAt: fakes.world.now() + claude.expires_in * 1000,
    });
    await admin(kleis, "/accounts/copilot/import", {
      accessToken: fakes.world.issueCopilotToken(),
    });
    const created = await admin(kleis, "/keys", { label: "opencode e2e" });
    const secret = created.secret as string;
    const discoveryUrl = (created.key as { discoveryUrl: string }).discoveryUrl;
    assert.match(discoveryUrl, /^http:\/\/127\.0\.0\.1:\d+\/api\/[A-Za-z0-9]+$/);

    // One model per provider, plus Copilot's other two shapes: each model's
    // `provider.npm` in /api.json decides which upstream path OpenCode ends on.
    const cases = [
      {
        model: "gpt-5.5",
        fake: fakes.chatgpt,
        path: "/backend-api/codex/responses",
        reply: "Codex answers through Kleis.",
      },
      {
        model: "anthropic/claude-sonnet-4-5",
        fake: fakes.anthropic,
        path: "/v1/messages",
        reply: "Claude answers through Kleis.",
      },
      {
        model: "copilot/gpt-4.1",
        fake: fakes.copilot,
        path: "/chat/completions",
        reply: "Copilot answers through Kleis.",
      },
      {
        model: "copilot/gpt-5.2-codex",
        fake: fakes.copilot,
        path: "/responses",
        reply: "Copilot Responses answers through Kleis.",
      },
      {
        model: "copilot/claude-sonnet-4.5",
        fake: fakes.copilot,
        path: "/v1/messages",
        reply: "Copilot Messages answers through Kleis.",
      },
    ];
    for (const { model, fake, path, reply } of cases) {
      await t.step(`opencode run --model kleis/${model} prints the backend's reply`, async () => {
        fake.setReply(reply);
        const before = fake.requests.length;
        await using sandbox = await opencodeSandbox({
          OPENCODE_MODELS_URL: discoveryUrl,
          KLEIS_API_KEY: secret,
        });
        const models = await runOpencode(sandbox, ["models", "--refresh"]);
        assert.equal(models.code, 0, models.stderr);
        assert.ok(
          models.stdout.split("\n").includes(`kleis/${model}`),
          `opencode models lists kleis/${model}:\n${models.stdout}`,
        );
        const run = await runOpencode(sandbox, [
          "run",
          "hello",
          "--model",
          `kleis/${model}`,
          "--title",
          "x",
          "--format",
          "json",
        ]);
        const text = replyText(run.stdout);
        assert.equal(
          text,
          reply,
          `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr.slice(-2000)}`,
        );
        const paths = fake.requests.slice(before).map((r) => r.path);
        assert.ok(paths.includes(path), `OpenCode's request reached ${path}: ${paths}`);
      });
    }
  } catch (error) {
    console.error(kleis.output().slice(-4000));
    throw error;
  } finally {
    await kleis.stop();
    await fakes.close();
  }
});

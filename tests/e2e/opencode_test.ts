/**
 * The real OpenCode CLI against a real Kleis process and the backend fakes:
 * accounts imported and a key created through the admin API, OpenCode
 * pointed at the key's discovery URL, one `opencode run` per provider.
 * Needs tests/support/install_opencode.sh to have run (CI does).
 */
import assert from "node:assert/strict";
import { startE2e } from "../support/e2e_setup.ts";
import {
  jsonEvents,
  OPENCODE_BIN,
  opencodeInstalled,
  opencodeSandbox,
  runOpencode,
} from "../support/opencode.ts";

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
  const { fakes, kleis, secret, discoveryUrl, close } = await startE2e("opencode e2e");
  try {
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

    await t.step("the key stored in OpenCode's auth.json instead of KLEIS_API_KEY", async () => {
      const reply = "Kleis key read from auth.json.";
      fakes.chatgpt.setReply(reply);
      await using sandbox = await opencodeSandbox({ OPENCODE_MODELS_URL: discoveryUrl });
      // What `opencode auth login` (provider "kleis", "Other") and the SDK's
      // client.auth.set({ path: { id: "kleis" }, body: { type: "api", key } })
      // write: one entry per provider id, in OpenCode's data directory.
      const authFile = `${sandbox.env.XDG_DATA_HOME}/opencode/auth.json`;
      await Deno.mkdir(`${sandbox.env.XDG_DATA_HOME}/opencode`, { recursive: true });
      await Deno.writeTextFile(authFile, JSON.stringify({ kleis: { type: "api", key: secret } }), {
        mode: 0o600,
      });
      assert.equal(sandbox.env.KLEIS_API_KEY, undefined);
      const list = await runOpencode(sandbox, ["auth", "list"]);
      assert.match(list.stdout, /kleis/i, list.stdout + list.stderr);
      await runOpencode(sandbox, ["models", "--refresh"]);
      const run = await runOpencode(sandbox, [
        "run",
        "hello",
        "--model",
        "kleis/gpt-5.5",
        "--title",
        "x",
        "--format",
        "json",
      ]);
      assert.equal(
        replyText(run.stdout),
        reply,
        `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr.slice(-2000)}`,
      );
    });
  } catch (error) {
    console.error(kleis.output().slice(-4000));
    throw error;
  } finally {
    await close();
  }
});

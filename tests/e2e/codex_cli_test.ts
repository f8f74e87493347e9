/**
 * The real Codex CLI against a real Kleis process and the ChatGPT fake:
 * `codex exec` with Kleis as a custom model provider prints the backend's
 * reply, and completes a turn in which it runs a shell command and sends the
 * output back. Nothing leaves for the internet.
 * Needs tests/support/setup.sh to have run (CI does).
 */
import assert from "node:assert/strict";
import { startE2e } from "../support/e2e_setup.ts";
import { assertReadToEndAndOffline, outsideRecorder, runCli } from "../support/agent_cli.ts";
import { CODEX_BIN, codexConfig, codexInstalled } from "../support/codex_cli.ts";
import { CODEX_PATH } from "../fakes/chatgpt.ts";

type Item = { type?: string; role?: string; output?: unknown; name?: string };

Deno.test({
  name: "Codex CLI works through Kleis unmodified",
  // Child processes (Kleis, Codex) and the fakes' servers outlive single steps.
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  assert.ok(
    await codexInstalled(),
    `The Codex CLI is not installed at ${CODEX_BIN}: run tests/support/setup.sh`,
  );
  const { fakes, kleis, secret, close } = await startE2e("codex e2e");
  const outside = outsideRecorder();
  const dir = await Deno.makeTempDir({ prefix: "kleis-codex-" });
  const chatgpt = fakes.chatgpt;
  const codex = async (prompt: string) => {
    const home = await Deno.makeTempDir({ dir, prefix: "home-" });
    await Deno.mkdir(`${home}/.codex`);
    await Deno.writeTextFile(`${home}/.codex/config.toml`, codexConfig(kleis.url));
    await Deno.mkdir(`${home}/project`);
    const run = await runCli(CODEX_BIN, ["exec", "--skip-git-repo-check", prompt], {
      cwd: `${home}/project`,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: home,
        CODEX_HOME: `${home}/.codex`,
        KLEIS_API_KEY: secret,
        ...outside.env,
      },
    });
    const detail = `exit ${run.code}\nstdout:\n${run.stdout.slice(-3000)}\nstderr:\n${
      run.stderr.slice(-3000)
    }`;
    assert.equal(run.code, 0, detail);
    return { stdout: run.stdout, detail };
  };

  try {
    await t.step("codex exec prints the backend's reply", async () => {
      chatgpt.setReply("Codex CLI answers through Kleis.");
      chatgpt.clearRequests();
      const { stdout, detail } = await codex("hello");
      assert.equal(stdout.trim(), "Codex CLI answers through Kleis.", detail);
      const [req] = chatgpt.requestsTo(CODEX_PATH);
      assert.ok(req, "the request reached the backend");
      assert.match(req.headers["authorization"] ?? "", /^Bearer ey/, "the account's token");
      assert.ok(req.headers["chatgpt-account-id"]);
      const body = req.json as Record<string, unknown>;
      assert.equal(body.model, "gpt-5.5");
      assert.equal(body.store, false);
      assert.equal(body.stream, true);
      assert.ok(typeof body.instructions === "string" && body.instructions !== "");
    });

    await t.step("a shell tool round trip: the command runs and its output goes back", async () => {
      chatgpt.setReply("The command printed kleis-shell-42.");
      chatgpt.setToolCall({ name: "exec_command", input: { cmd: "echo kleis-shell-$((6 * 7))" } });
      chatgpt.clearRequests();
      const { stdout, detail } = await codex("use tool exec_command to print the marker");
      assert.equal(stdout.trim(), "The command printed kleis-shell-42.", detail);
      const turns = chatgpt.requestsTo(CODEX_PATH);
      assert.equal(turns.length, 2, "the tool call, then the answer after its output");
      const input = (turns[1]?.json as { input?: Item[] }).input ?? [];
      const call = input.find((i) => i.type === "function_call");
      assert.equal(call?.name, "exec_command");
      const output = input.find((i) => i.type === "function_call_output");
      assert.match(JSON.stringify(output?.output), /kleis-shell-42/, detail);
      chatgpt.setToolCall(undefined);
    });

    await t.step("every answer was read to its end; nothing went outside", async () => {
      await assertReadToEndAndOffline(chatgpt, outside);
    });
  } catch (error) {
    console.error(kleis.output().slice(-4000));
    throw error;
  } finally {
    outside.close();
    await close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

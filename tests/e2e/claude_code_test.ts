/**
 * The real Claude Code CLI against a real Kleis process and the Anthropic
 * fake: `claude -p` with JSON output, with either of its key variables; a
 * turn that runs a Bash tool and sends the result back; `/context`, which
 * counts tokens; the model list it reads. Nothing leaves for the internet.
 * Needs tests/support/setup.sh to have run (CI does).
 */
import assert from "node:assert/strict";
import { startE2e } from "../support/e2e_setup.ts";
import { assertReadToEndAndOffline, outsideRecorder, runCli } from "../support/agent_cli.ts";
import { CLAUDE_BIN, claudeCodeEnv, claudeCodeInstalled } from "../support/claude_code.ts";
import { CLAUDE_IDENTITY_PROMPT } from "../fakes/anthropic.ts";
import { THINKING_SIGNATURE } from "../fakes/messages_reply.ts";
import type { RecordedRequest } from "../fakes/server.ts";

type Block = Record<string, unknown>;
type Message = { role: string; content: string | Block[] };

function blocks(req: RecordedRequest | undefined): Block[] {
  const messages = (req?.json as { messages?: Message[] } | undefined)?.messages ?? [];
  return messages.flatMap((m) => typeof m.content === "string" ? [] : m.content);
}

Deno.test({
  name: "Claude Code works through Kleis unmodified",
  // Child processes (Kleis, Claude Code) and the fakes' servers outlive single steps.
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  assert.ok(
    await claudeCodeInstalled(),
    `Claude Code is not installed at ${CLAUDE_BIN}: run tests/support/setup.sh`,
  );
  const { fakes, kleis, secret, close } = await startE2e("claude code e2e");
  const outside = outsideRecorder();
  const dir = await Deno.makeTempDir({ prefix: "kleis-claude-code-" });
  const anthropic = fakes.anthropic;
  const claude = async (args: string[], keyVariable: string) => {
    const home = await Deno.makeTempDir({ dir, prefix: "home-" });
    const cwd = `${home}/project`;
    await Deno.mkdir(cwd);
    return {
      home,
      run: await runCli(CLAUDE_BIN, [...args, "--output-format", "json"], {
        cwd,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: home,
          CLAUDE_CONFIG_DIR: `${home}/.claude`,
          ...claudeCodeEnv(kleis.url),
          [keyVariable]: secret,
          ...outside.env,
        },
      }),
    };
  };
  /** The `result` of the JSON output, with the whole run in the failure message. */
  const result = (run: { code: number; stdout: string; stderr: string }) => {
    const detail = `exit ${run.code}\nstdout:\n${run.stdout.slice(-3000)}\nstderr:\n${
      run.stderr.slice(-3000)
    }`;
    let parsed: { result?: unknown; is_error?: unknown };
    try {
      parsed = JSON.parse(run.stdout);
    } catch {
      throw new Error(`no JSON output: ${detail}`);
    }
    assert.equal(run.code, 0, detail);
    assert.equal(parsed.is_error, false, detail);
    return parsed.result;
  };

  try {
    // Thinking on: the fake answers with a signed thinking block before the
    // text, and refuses a history whose thinking lost its signature.
    anthropic.thinking = "Thinking it over.";

    for (const keyVariable of ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]) {
      await t.step(`claude -p with ${keyVariable} prints the backend's reply`, async () => {
        anthropic.setReply(`Claude Code answers through Kleis (${keyVariable}).`);
        anthropic.clearRequests();
        const { home, run } = await claude(["-p", "hello"], keyVariable);
        assert.equal(result(run), `Claude Code answers through Kleis (${keyVariable}).`);

        const [req] = anthropic.requestsTo("/v1/messages");
        assert.ok(req, "the request reached the backend");
        assert.equal(req.search, "?beta=true");
        assert.match(req.headers["authorization"] ?? "", /^Bearer sk-ant-oat01-/);
        assert.equal(req.headers["x-api-key"], undefined, "the Kleis key never goes upstream");
        const betas = (req.headers["anthropic-beta"] ?? "").split(",");
        assert.ok(betas.includes("claude-code-20250219") && betas.includes("oauth-2025-04-20"));
        const body = req.json as { stream?: unknown; system?: Block[]; thinking?: Block };
        assert.equal(body.stream, true, "Claude Code streams");
        assert.equal(body.system?.[0]?.text, CLAUDE_IDENTITY_PROMPT);
        assert.ok(body.thinking, "Claude Code asks for thinking");

        // The model list Claude Code read from Kleis (its gateway discovery cache).
        const cache = await Deno.readTextFile(`${home}/.claude/cache/gateway-models.json`);
        assert.match(cache, /claude-sonnet-4-5/, cache);
      });
    }

    await t.step("a Bash tool round trip: the tool runs and its output goes back", async () => {
      anthropic.setReply("The command printed kleis-tool-42.");
      anthropic.setToolCall({
        name: "mcp_Bash",
        input: { command: "echo kleis-tool-$((6 * 7))", description: "Print a marker" },
      });
      anthropic.clearRequests();
      const { run } = await claude(
        ["-p", "use tool Bash to print the marker", "--allowedTools", "Bash"],
        "ANTHROPIC_API_KEY",
      );
      assert.equal(result(run), "The command printed kleis-tool-42.");
      const turns = anthropic.requestsTo("/v1/messages");
      assert.equal(turns.length, 2, "the tool call, then the answer after its result");
      const history = blocks(turns[1]);
      const use = history.find((b) => b.type === "tool_use");
      assert.equal(use?.name, "mcp_Bash", "Kleis maps Claude Code's tool name upstream");
      const toolResult = history.find((b) => b.type === "tool_result");
      assert.match(JSON.stringify(toolResult?.content), /kleis-tool-42/);
      assert.ok(
        history.some((b) => b.type === "thinking" && b.signature === THINKING_SIGNATURE),
        "the thinking block went back with its signature",
      );
      anthropic.setToolCall(undefined);
    });

    await t.step("/context counts tokens through Kleis", async () => {
      anthropic.clearRequests();
      const { run } = await claude(["-p", "/context"], "ANTHROPIC_API_KEY");
      result(run);
      const counts = anthropic.requestsTo("/v1/messages/count_tokens");
      assert.ok(counts.length > 0, "count_tokens reached the backend");
      assert.ok(counts.every((r) => r.search === "?beta=true"));
    });

    await t.step("every answer was read to its end; nothing went outside", async () => {
      await assertReadToEndAndOffline(anthropic, outside);
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

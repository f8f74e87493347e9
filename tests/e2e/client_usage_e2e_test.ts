/**
 * Usage by client address and user agent through a real Kleis process
 * (main.ts) and the backend fakes, with and without KLEIS_TRUST_PROXY: the
 * forwarded address counts only when the proxy in front is trusted; the
 * user agent is the client's own (here the real @anthropic-ai/sdk's).
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { startAllFakes } from "../fakes/mod.ts";
import { startKleis } from "../support/kleis_process.ts";
import { adminPost, importClaude } from "../support/e2e_setup.ts";

interface Group {
  key: string;
  label: string;
  requests: number;
}

Deno.test({
  name: "usage groups by client address and user agent, with and without KLEIS_TRUST_PROXY",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const fakes = await startAllFakes();
  try {
    for (const trust of [false, true]) {
      await t.step(`KLEIS_TRUST_PROXY=${trust}`, async () => {
        await using kleis = await startKleis({
          env: { ...fakes.env, KLEIS_TRUST_PROXY: String(trust) },
        });
        await importClaude(fakes, kleis);
        const secret = (await adminPost(kleis, "/keys", { label: "clients" })).secret as string;
        const body = JSON.stringify({
          model: "claude-sonnet-4-5",
          max_tokens: 16,
          messages: [{ role: "user", content: "hi" }],
        });
        for (let i = 0; i < 2; i++) {
          const res = await fetch(`${kleis.url}/anthropic/v1/messages`, {
            method: "POST",
            headers: {
              "x-api-key": secret,
              "content-type": "application/json",
              "anthropic-version": "2023-06-01",
              "user-agent": "agent-a/1.0 (test)",
              "x-forwarded-for": "203.0.113.9, 10.0.0.1",
            },
            body,
          });
          assert.equal(res.status, 200, await res.text());
        }
        const sdk = new Anthropic({
          apiKey: secret,
          baseURL: `${kleis.url}/anthropic`,
          defaultHeaders: { "x-forwarded-for": "203.0.113.10" },
        });
        const answer = await sdk.messages.create({
          model: "claude-sonnet-4-5",
          max_tokens: 16,
          messages: [{ role: "user", content: "hi" }],
        });
        assert.equal(answer.type, "message");

        const usage = async (groupBy: string): Promise<Map<string, number>> => {
          const deadline = Date.now() + 15_000;
          while (true) {
            const res = await fetch(
              `${kleis.url}/admin/usage?windowMs=3600000&groupBy=${groupBy}`,
              {
                headers: { authorization: `Bearer ${kleis.adminToken}` },
              },
            );
            const json = await res.json();
            assert.equal(res.status, 200, JSON.stringify(json));
            if (json.totals.requests >= 3) {
              return new Map((json.groups as Group[]).map((g) => [g.key, g.requests]));
            }
            assert.ok(Date.now() < deadline, "usage never arrived");
            await new Promise((r) => setTimeout(r, 100));
          }
        };

        const byClient = await usage("client");
        assert.deepEqual(
          Object.fromEntries(byClient),
          trust ? { "203.0.113.9": 2, "203.0.113.10": 1 } : { "127.0.0.1": 3 },
        );
        const byAgent = await usage("userAgent");
        assert.equal(byAgent.get("agent-a/1.0 (test)"), 2);
        const sdkAgent = [...byAgent.keys()].find((k) => k.startsWith("Anthropic/JS "));
        assert.ok(sdkAgent, `no SDK user agent among ${[...byAgent.keys()].join(", ")}`);
        assert.equal(byAgent.get(sdkAgent), 1);
      });
    }
  } finally {
    await fakes.close();
  }
});

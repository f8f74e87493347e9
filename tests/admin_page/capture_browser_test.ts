/**
 * The admin page's request capture in headless Chromium against main.ts and
 * the backend fakes: start a capture from a key's card, make a request with
 * that key, see it listed, open it, stop the capture. Nothing secret shows.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startAllFakes } from "../fakes/mod.ts";
import { startKleis } from "../support/kleis_process.ts";
import { artifactPath, launchBrowser, requireChromium, signIn } from "../support/browser.ts";
import { adminPost, importClaude } from "../support/e2e_setup.ts";

async function screenshot(page: Page, name: string) {
  await page.evaluate("globalThis.scrollTo(0, 0)");
  await page.screenshot({ path: await artifactPath(name), fullPage: true });
}

const PAGE_CONTENTS = `[
  document.documentElement.outerHTML,
  ...[...document.querySelectorAll("input, textarea")].map((el) => el.value),
].join("\\n")`;

Deno.test({
  name: "admin page: request capture is started, listed, opened and stopped from a key's card",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    requireChromium();
    const fakes = await startAllFakes();
    await using kleis = await startKleis({ env: fakes.env });
    await using browser = await launchBrowser();
    const { page, problems } = await browser.newPage();
    page.setDefaultTimeout(15_000);
    try {
      const claude = await importClaude(fakes, kleis);
      const created = await adminPost(kleis, "/keys", { label: "capture me" });
      const secret = created.secret as string;
      const keyId = (created.key as { id: string }).id;

      await t.step("Start capture from the key's card", async () => {
        await signIn(page, kleis.url, kleis.adminToken);
        await page.click(`#tabs a[data-view="keys"]`);
        const card = page.locator("#view-keys .card", { hasText: "capture me" });
        await card.locator("button", { hasText: "Capture" }).click();
        await page.locator("dialog .capture-status", { hasText: "Capture is off" }).waitFor();
        await page.locator("dialog select").selectOption("900");
        await page.click("dialog button:has-text('Start capture')");
        await page.locator("dialog .capture-status", { hasText: "Capturing until" }).waitFor();
        await card.locator("dd", { hasText: /^on until / }).waitFor();
      });

      await t.step("a request of the key is listed and opens with both sides", async () => {
        const res = await fetch(`${kleis.url}/anthropic/v1/messages`, {
          method: "POST",
          headers: {
            "x-api-key": secret,
            "content-type": "application/json",
            "anthropic-version": "2023-06-01",
          },
          body: JSON.stringify({
            model: "claude-sonnet-4-5",
            max_tokens: 32,
            messages: [{ role: "user", content: "captured from the browser test" }],
          }),
        });
        assert.equal(res.status, 200, await res.text());
        // The capture is written after the answer, in the background: refresh until listed.
        const row = page.locator("dialog tr.capture-row");
        const deadline = Date.now() + 15_000;
        while (await row.count() === 0) {
          assert.ok(Date.now() < deadline, "the capture was never listed");
          await page.click("dialog button:has-text('Refresh')");
          await page.waitForSelector("dialog .capture-list[aria-busy=false]");
        }
        assert.match(await row.first().textContent() ?? "", /\/anthropic\/v1\/messages.*200/);
        await row.first().locator("button", { hasText: "View" }).click();
        await page.locator("dialog h3", { hasText: "Request as sent to the backend" }).waitFor();
        const bodies = page.locator("dialog pre.capture-body");
        await bodies.nth(1).waitFor();
        assert.match(await bodies.nth(0).textContent() ?? "", /captured from the browser test/);
        assert.match(await bodies.nth(1).textContent() ?? "", /Hello from fake Claude/);
        await page.locator("dialog td", { hasText: "[redacted]" }).first().waitFor();
        await screenshot(page, "capture-1280.png");
        const contents = await page.evaluate<string>(PAGE_CONTENTS);
        for (const s of [secret, claude.access_token, claude.refresh_token, kleis.adminToken]) {
          assert.ok(!contents.includes(s), "a secret is in the page");
        }
      });

      await t.step("Stop capture turns it off", async () => {
        await page.click("dialog button:has-text('Stop capture')");
        await page.locator("dialog .capture-status", { hasText: "Capture is off" }).waitFor();
        const listed = await fetch(`${kleis.url}/admin/keys/${keyId}/captures`, {
          headers: { authorization: `Bearer ${kleis.adminToken}` },
        }).then((r) => r.json());
        assert.deepEqual(listed.capture, { active: false });
        assert.equal(listed.captures.length, 1);
        assert.deepEqual(problems.dialogs, []);
        assert.deepEqual(problems.pageErrors, []);
        assert.deepEqual(problems.consoleErrors, []);
      });
    } catch (error) {
      console.error(kleis.output().slice(-4000));
      throw error;
    } finally {
      await fakes.close();
    }
  },
});

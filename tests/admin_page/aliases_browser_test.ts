/**
 * The aliases view of the admin page in headless Chromium against main.ts
 * and the backend fakes: create an alias through the form, see it listed,
 * get the API's message for bad input, delete it after confirming; and the
 * alias works for an API client meanwhile.
 */
import assert from "node:assert/strict";
import { startAllFakes } from "../fakes/mod.ts";
import { startKleis } from "../support/kleis_process.ts";
import { adminPost, adminRequest, importOneOfEach } from "../support/e2e_setup.ts";
import {
  artifactPath,
  launchBrowser,
  openView,
  requireChromium,
  signIn,
} from "../support/browser.ts";

Deno.test({
  name: "admin page: the aliases view in headless Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    requireChromium();
    const fakes = await startAllFakes();
    await using kleis = await startKleis({ env: fakes.env });
    await using browser = await launchBrowser();
    const { page, problems } = await browser.newPage();
    page.setDefaultTimeout(15_000);
    const base = kleis.url;
    const aliasRows = page.locator("#view-aliases tbody tr");
    const adminGet = (path: string) => adminRequest(kleis, "GET", path);

    try {
      await importOneOfEach(fakes, kleis);
      const { secret } = await adminPost(kleis, "/keys", { label: "page" }) as { secret: string };

      await t.step("the view opens from the nav, empty", async () => {
        await signIn(page, base, kleis.adminToken);
        await openView(page, "aliases");
        await page.locator("#view-aliases", { hasText: "No aliases yet." }).waitFor();
        assert.equal(await aliasRows.count(), 0);
      });

      await t.step("creates an alias through the form; it is listed and works", async () => {
        await page.fill("#view-aliases input[name=name]", "fast");
        await page.fill("#view-aliases input[name=target]", "copilot/gpt-5-mini");
        await page.click("#view-aliases button[type=submit]");
        const row = page.locator(`#view-aliases tr[data-alias="fast"]`);
        await row.waitFor();
        assert.match(await row.textContent() ?? "", /copilot\/gpt-5-mini/);
        assert.match(await row.textContent() ?? "", /yes/);
        assert.equal(await page.inputValue("#view-aliases input[name=name]"), "");
        const stored = await adminGet("/aliases/fast");
        assert.equal(stored.json.alias.target, "copilot/gpt-5-mini");
        const res = await fetch(`${base}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "fast", messages: [{ role: "user", content: "hi" }] }),
        });
        assert.equal(res.status, 200, await res.text());
        assert.equal(
          (fakes.copilot.lastRequest("/responses")!.json as { model: string }).model,
          "gpt-5-mini",
        );
        await page.screenshot({ path: await artifactPath("aliases-1280.png"), fullPage: true });
      });

      await t.step("bad input shows the API's message and adds nothing", async () => {
        await page.fill("#view-aliases input[name=name]", "gpt-5.5");
        await page.fill("#view-aliases input[name=target]", "copilot/gpt-4.1");
        await page.click("#view-aliases button[type=submit]");
        await page.locator("#view-aliases .form-message", { hasText: /model Kleis offers/ })
          .waitFor();
        await page.fill("#view-aliases input[name=name]", "other");
        await page.fill("#view-aliases input[name=target]", "gpt-4.1");
        await page.click("#view-aliases button[type=submit]");
        await page.locator("#view-aliases .form-message", { hasText: /must name a provider/ })
          .waitFor();
        assert.equal(await aliasRows.count(), 1);
        assert.equal((await adminGet("/aliases")).json.aliases.length, 1);
      });

      await t.step("deletes an alias after confirming", async () => {
        const row = page.locator(`#view-aliases tr[data-alias="fast"]`);
        await row.locator("button", { hasText: "Delete" }).click();
        await page.locator("dialog button", { hasText: "Delete" }).click();
        await row.waitFor({ state: "detached" });
        await page.locator("#view-aliases", { hasText: "No aliases yet." }).waitFor();
        assert.equal((await adminGet("/aliases/fast")).status, 404);
      });

      await t.step("the audit view names both changes", async () => {
        await page.click(`#tabs a[data-view="audit"]`);
        await page.locator("#view-audit td", { hasText: "Alias deleted" }).waitFor();
        await page.locator("#view-audit td", { hasText: "Alias saved" }).first().waitFor();
      });

      assert.deepEqual(problems.dialogs, [], "a JavaScript dialog opened");
      assert.deepEqual(problems.pageErrors, [], "the page threw");
      assert.deepEqual(
        problems.consoleErrors.filter((m) => /Content Security Policy/i.test(m)),
        [],
        "the page broke its own CSP",
      );
    } catch (error) {
      console.error(kleis.output().slice(-4000));
      throw error;
    } finally {
      await fakes.close();
    }
  },
});

/**
 * The admin page's account selection section and the account's outbound
 * proxy field, in headless Chromium against main.ts and the backend fakes.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startAllFakes } from "../fakes/mod.ts";
import { startKleis } from "../support/kleis_process.ts";
import { artifactPath, launchBrowser, requireChromium, signIn } from "../support/browser.ts";
import { adminFetch } from "../support/e2e_setup.ts";
import { credentialFixture } from "../support/fixtures.ts";

const PROXY_PASSWORD = "br0wser-pr0xy-s3cret";

/** Everything the page holds as markup, form values and storage. */
const PAGE_CONTENTS = `[
  document.documentElement.outerHTML,
  ...[...document.querySelectorAll("input, textarea")].map((el) => el.value),
  JSON.stringify({ ...sessionStorage }),
].join("\\n")`;

/** Signs in; the Accounts view (the first one) has loaded. */
async function signInToAccounts(page: Page, base: string, token: string) {
  await signIn(page, base, token);
  await page.waitForSelector(`#view-accounts [aria-busy="true"]`, { state: "detached" });
}

Deno.test({
  name: "admin page: change a provider's selection strategy and an account's proxy",
  // A real Kleis process and a browser: their pipes and sockets outlive single steps by design.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    requireChromium();
    const fakes = await startAllFakes();
    try {
      await using kleis = await startKleis({ env: fakes.env });
      await using browser = await launchBrowser();
      const { page, problems } = await browser.newPage();
      page.setDefaultTimeout(15_000);
      const base = kleis.url;
      const token = kleis.adminToken;
      const imported = await adminFetch(base, token, "/admin/accounts/codex/import", {
        method: "POST",
        body: await Deno.readTextFile(credentialFixture("codex-auth.json")),
      });
      assert.equal(imported.status, 200, JSON.stringify(imported.body));
      const accountId: string = imported.body.account.id;

      await t.step(
        "the Accounts view shows each provider's strategy, fill-first at first",
        async () => {
          await signInToAccounts(page, base, token);
          const codex = page.locator("#selection-codex");
          await codex.waitFor();
          assert.equal(await codex.inputValue(), "fill-first");
          assert.equal(await page.locator("#selection-copilot").inputValue(), "fill-first");
          assert.equal(await page.locator("#selection-claude").inputValue(), "fill-first");
        },
      );

      await t.step("picking round-robin saves it (the API and a fresh page agree)", async () => {
        await page.locator("#selection-codex").selectOption("round-robin");
        await page.locator("#status", { hasText: "now uses Round robin" }).waitFor();
        const api = await adminFetch(base, token, "/admin/selection");
        const codex = api.body.providers.find((p: { provider: string }) => p.provider === "codex");
        assert.equal(codex.strategy, "round-robin");
        await page.reload();
        await page.waitForSelector(`#view-accounts [aria-busy="true"]`, { state: "detached" });
        await page.locator("#selection-codex-hint", { hasText: "Takes turns" }).waitFor();
        assert.equal(await page.locator("#selection-codex").inputValue(), "round-robin");
        assert.equal(await page.locator("#selection-claude").inputValue(), "fill-first");
        await page.evaluate("globalThis.scrollTo(0, 0)");
        await page.screenshot({ path: await artifactPath("selection-1280.png"), fullPage: true });
      });

      const card = page.locator("#view-accounts .card", { hasText: "dev@example.com" }).first();

      await t.step("a bad proxy URL is refused in the dialog; nothing is saved", async () => {
        await card.locator("button", { hasText: "Edit" }).click();
        await page.fill("dialog input.proxy-url", "ftp://example.com:21");
        await page.click("dialog button[type=submit]");
        await page.locator("dialog .form-message", { hasText: "must start with" }).waitFor();
        const view = await adminFetch(base, token, `/admin/accounts/${accountId}`);
        assert.equal(view.body.account.proxy, undefined);
      });

      await t.step(
        "a proxy URL is saved and shown redacted, the password nowhere in the page",
        async () => {
          await page.fill(
            "dialog input.proxy-url",
            `http://kleis:${PROXY_PASSWORD}@127.0.0.1:3128`,
          );
          await page.click("dialog button[type=submit]");
          await page.locator("dialog").waitFor({ state: "detached" });
          await card.locator("dd code", { hasText: "http://kleis:***@127.0.0.1:3128" }).waitFor();
          const view = await adminFetch(base, token, `/admin/accounts/${accountId}`);
          assert.equal(view.body.account.proxy, "http://kleis:***@127.0.0.1:3128");
          assert.ok(!(await page.evaluate<string>(PAGE_CONTENTS)).includes(PROXY_PASSWORD));
        },
      );

      await t.step("Go direct removes it", async () => {
        await card.locator("button", { hasText: "Edit" }).click();
        await page.check("dialog input.proxy-clear");
        await page.click("dialog button[type=submit]");
        await page.locator("dialog").waitFor({ state: "detached" });
        await card.locator("dd", { hasText: /^direct$/ }).waitFor();
        const view = await adminFetch(base, token, `/admin/accounts/${accountId}`);
        assert.equal(view.body.account.proxy, undefined);
      });

      assert.deepEqual(problems.dialogs, []);
      assert.deepEqual(problems.pageErrors, []);
      assert.deepEqual(
        problems.consoleErrors.filter((m) => /Content Security Policy/i.test(m)),
        [],
      );
    } finally {
      await fakes.close();
    }
  },
});

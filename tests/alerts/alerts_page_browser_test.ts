/**
 * The Alerts view in headless Chromium against main.ts as a real process:
 * the webhook is configured through the page, bad input is refused with a
 * message and changes nothing, and "Send test alert" reaches a real
 * receiver that checks the signature. A backup that fails in that process
 * is then alerted through its own queue listener. The secret never shows in
 * the page or the process's output.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startAllFakes } from "../fakes/mod.ts";
import { startKleis } from "../support/kleis_process.ts";
import { artifactPath, launchBrowser, requireChromium, signIn } from "../support/browser.ts";
import { credentialFixture } from "../support/fixtures.ts";
import { startReceiver } from "./receiver.ts";

const SECRET = "whsec-browser-test-0123456789abcdef";
const VIEW = "#view-alerts";

async function settings(base: string, token: string) {
  const res = await fetch(`${base}/admin/alerts`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (await res.json()).alerts;
}

const field = (page: Page, name: string) => page.locator(`${VIEW} [name="${name}"]`);

Deno.test({
  name: "the Alerts view configures the webhook and sends a test alert",
  // A real Kleis process and a browser: their pipes and sockets outlive single steps by design.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    requireChromium();
    const fakes = await startAllFakes();
    await using receiver = await startReceiver({ secret: SECRET });
    // A backup target that cannot be written: a directory under a regular file.
    const blocker = await Deno.makeTempFile({ prefix: "kleis-alerts-page-" });
    await using kleis = await startKleis({
      env: { ...fakes.env, KLEIS_BACKUP_TARGET: `dir:${blocker}/backups` },
    });
    await using browser = await launchBrowser();
    const { page, problems } = await browser.newPage();
    page.setDefaultTimeout(15_000);
    const base = kleis.url;

    try {
      await t.step("signs in and opens the Alerts view: alerts are off", async () => {
        await signIn(page, base, kleis.adminToken);
        await page.click('#tabs a[data-view="alerts"]');
        await page.locator(VIEW).waitFor({ state: "visible" });
        await page.locator(VIEW, { hasText: "Alerts are off." }).waitFor();
        assert.equal(
          await page.locator(`${VIEW} button`, { hasText: "Send test alert" }).isDisabled(),
          true,
        );
      });

      await t.step("bad input gets a message and changes nothing", async () => {
        await field(page, "quotaThresholdPercent").fill("0");
        await page.click(`${VIEW} button[type="submit"]`);
        await page.locator(`${VIEW} .form-message`, { hasText: /1 to 100/ }).waitFor();
        await field(page, "quotaThresholdPercent").fill("80");
        await field(page, "url").fill("ftp://example.com/hook");
        await page.click(`${VIEW} button[type="submit"]`);
        await page.locator(`${VIEW} .form-message`, { hasText: /http or https/ }).waitFor();
        const stored = await settings(base, kleis.adminToken);
        assert.equal(stored.url, null);
        assert.equal(stored.updatedAt, null);
      });

      await t.step("saves URL, secret, events and thresholds", async () => {
        await field(page, "url").fill(receiver.url);
        await field(page, "secret").fill(SECRET);
        await field(page, "event-quota").uncheck();
        await field(page, "quotaThresholdPercent").fill("90");
        await field(page, "keyTokensThresholdPercent").fill("75");
        await page.click(`${VIEW} button[type="submit"]`);
        await page.locator("#status", { hasText: "Alert settings saved." }).waitFor();
        const shown = `${new URL(receiver.url).origin}/***`;
        await page.locator(VIEW, { hasText: `Alerts go to ${shown}, signed.` }).waitFor();
        const stored = await settings(base, kleis.adminToken);
        assert.equal(stored.url, shown);
        assert.ok(
          !(await page.content()).includes(receiver.url),
          "the full URL is not on the page",
        );
        assert.equal(stored.secretSet, true);
        assert.deepEqual(stored.events, {
          needsLogin: true,
          quota: false,
          keyTokens: true,
          backupFailed: true,
        });
        assert.equal(stored.quotaThresholdPercent, 90);
        assert.equal(stored.keyTokensThresholdPercent, 75);
        // The reloaded form shows what is stored, and the secret only as "set".
        assert.equal(await field(page, "quotaThresholdPercent").inputValue(), "90");
        assert.equal(await field(page, "event-quota").isChecked(), false);
        assert.equal(await field(page, "secret").inputValue(), "");
        assert.equal(await field(page, "url").inputValue(), "");
        assert.match(await field(page, "url").getAttribute("placeholder") ?? "", /leave empty/);
        assert.match(await field(page, "secret").getAttribute("placeholder") ?? "", /is set/);
      });

      await t.step(
        "Send test alert: the receiver gets it signed and the page says so",
        async () => {
          await page.click(`${VIEW} button:has-text("Send test alert")`);
          await page.locator("#alerts-test-result", { hasText: "Delivered" }).waitFor();
          assert.equal(receiver.deliveries.length, 1);
          const d = receiver.deliveries[0]!;
          assert.equal(d.body.type, "alert.test");
          assert.equal(d.signatureValid, true);
          await page.evaluate("globalThis.scrollTo(0, 0)");
          await page.screenshot({ path: await artifactPath("alerts-1280.png"), fullPage: true });
        },
      );

      await t.step(
        "a failed backup in the running process: alerted through its queue",
        async () => {
          const headers = {
            authorization: `Bearer ${kleis.adminToken}`,
            "content-type": "application/json",
          };
          const imported = await fetch(`${base}/admin/accounts/copilot/import`, {
            method: "POST",
            headers,
            body: await Deno.readTextFile(credentialFixture("copilot-hosts.json")),
          });
          assert.equal(imported.status, 200, await imported.text());
          const run = await fetch(`${base}/admin/backups/run`, { method: "POST", headers });
          assert.equal((await run.json()).ok, false);
          const [d] = await receiver.waitFor((d) => d.body.type === "backup.failed");
          assert.equal(d!.signatureValid, true);
          assert.equal(d!.body.details.attempts, 1);
        },
      );

      await t.step("the audit view lists the delivery", async () => {
        await page.click('#tabs a[data-view="audit"]');
        await page.locator("#view-audit", { hasText: "Alert sent" }).waitFor();
      });

      await t.step("the secret is nowhere in the page, and the page had no errors", async () => {
        const contents = await page.evaluate<string>(`[
          document.documentElement.outerHTML,
          ...[...document.querySelectorAll("input, textarea")].map((el) => el.value),
          JSON.stringify({ ...sessionStorage }),
          JSON.stringify({ ...localStorage }),
        ].join("\\n")`);
        assert.ok(!contents.includes(SECRET));
        assert.ok(!kleis.output().includes(SECRET));
        assert.deepEqual(problems.dialogs, []);
        assert.deepEqual(problems.pageErrors, []);
        assert.deepEqual(problems.consoleErrors.filter((m) => !/status of 400/.test(m)), []);
      });
    } finally {
      await fakes.close();
      await Deno.remove(blocker);
    }
  },
});

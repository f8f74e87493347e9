/**
 * The admin page in headless Chromium against main.ts running with the
 * backend fakes: sign-in, keys (secret shown once, revoke, XSS label),
 * import, the Copilot device flow, lockout, and screenshots of each view at
 * desktop and phone widths (test-artifacts/).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startAllFakes } from "../fakes/mod.ts";
import { startKleis } from "../support/kleis_process.ts";
import {
  artifactPath,
  launchBrowser,
  openView,
  requireChromium,
  signIn,
} from "../support/browser.ts";
import { adminFetch } from "../support/e2e_setup.ts";
import { credentialFixture } from "../support/fixtures.ts";

const XSS_LABEL = "<img src=x onerror=alert(1)>";
const HOSTS_FIXTURE = credentialFixture("copilot-hosts.json");
const CODEX_FIXTURE = credentialFixture("codex-auth.json");

/** A datetime-local value two hours ahead, computed in the browser's time zone. */
const IN_TWO_HOURS = `(() => {
  const d = new Date(Date.now() + 2 * 3600e3);
  const p = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" +
    p(d.getHours()) + ":" + p(d.getMinutes());
})()`;

// Browser-side code is passed as strings: this program's type library has no DOM.

/** Everything the page holds as text, markup, form values and storage. */
const PAGE_CONTENTS = `[
  document.documentElement.outerHTML,
  ...[...document.querySelectorAll("input, textarea")].map((el) => el.value),
  JSON.stringify({ ...sessionStorage }),
  JSON.stringify({ ...localStorage }),
  location.href,
].join("\\n")`;

function pageContents(page: Page): Promise<string> {
  return page.evaluate<string>(PAGE_CONTENTS);
}

const signinMessageMatches = (page: Page, pattern: RegExp) =>
  page.locator("#signin-message", { hasText: pattern }).waitFor();

/** Closes dialogs a failed step left open, so the next step starts clean. */
async function closeDialogs(page: Page) {
  await page.evaluate(`document.querySelectorAll("dialog[open]").forEach((d) => d.close())`);
}

async function screenshot(page: Page, name: string) {
  // A sticky header would cover the top of a full-page shot taken while scrolled.
  await page.evaluate("globalThis.scrollTo(0, 0)");
  await page.screenshot({ path: await artifactPath(name), fullPage: true });
}

Deno.test({
  name: "admin page in headless Chromium against Kleis and the backend fakes",
  // A real Kleis process and a browser: their pipes and sockets outlive single steps by design.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    requireChromium();
    const fakes = await startAllFakes({ github: { interval: 1 } });
    const backupDir = await Deno.makeTempDir({ prefix: "kleis-page-backups-" });
    await using kleis = await startKleis({
      env: { ...fakes.env, KLEIS_BACKUP_TARGET: `dir:${backupDir}` },
    });
    await using browser = await launchBrowser();
    const { page, problems } = await browser.newPage();
    page.setDefaultTimeout(10_000);
    const base = kleis.url;
    const token = kleis.adminToken;

    try {
      await t.step("a wrong admin token gets a clear message and nothing is stored", async () => {
        await page.goto(`${base}/admin/`);
        await screenshot(page, "signin-1280.png");
        await page.fill("#signin-token", "not-the-admin-token-0123456789abcdef");
        await page.click("#signin-submit");
        await signinMessageMatches(page, /wrong/i);
        assert.equal(await page.isVisible("#app"), false);
        assert.equal(await page.evaluate(() => sessionStorage.length), 0);
      });

      await t.step("signs in; the token lives in sessionStorage, never in the URL", async () => {
        await signIn(page, base, token);
        assert.ok(!page.url().includes(token));
        assert.equal(
          await page.evaluate(() => sessionStorage.getItem("kleis.adminToken")),
          token,
        );
        assert.equal(await page.evaluate(() => localStorage.length), 0);
        await page.locator("#accounts-title").waitFor();
      });

      let secret = "";
      await t.step("creates a key and shows its secret exactly once", async () => {
        await openView(page, "keys");
        await page.click("text=Create key");
        await page.fill(".key-form input[type=text] >> nth=0", "laptop opencode");
        await page.check(".key-form input[type=checkbox][value=codex]");
        await page.fill(".key-form input[placeholder^='gpt-5']", "gpt-5*, claude-sonnet-4-5");
        await page.fill(".key-form input[placeholder='no limit'] >> nth=0", "60");
        await screenshot(page, "key-create-1280.png");
        await page.click(".key-form button[type=submit]");
        const secretInput = page.locator("input.secret");
        await secretInput.waitFor();
        secret = await secretInput.inputValue();
        assert.match(secret, /^kleis_/);
        const snippet = await page.locator("dialog pre.snippet").textContent();
        assert.match(
          snippet ?? "",
          /^export OPENCODE_MODELS_URL=http:\/\/127\.0\.0\.1:\d+\/api\/\S+$/m,
        );
        assert.ok(snippet?.includes(`export KLEIS_API_KEY=${secret}`));
        assert.ok(snippet?.includes("opencode models --refresh"));
        await screenshot(page, "key-secret-1280.png");
        await page.click("text=I have saved it");
        await page.locator("dialog").waitFor({ state: "detached" });

        assert.ok(!(await pageContents(page)).includes(secret), "secret left in the page");
        await page.reload();
        await page.locator("#view-keys").waitFor({ state: "visible" });
        await page.locator("#view-keys .card", { hasText: "laptop opencode" }).waitFor();
        assert.ok(!(await pageContents(page)).includes(secret), "secret in the page after reload");
        const listed = await adminFetch(base, token, "/admin/keys");
        const key = listed.body.keys.find((k: { label: string }) => k.label === "laptop opencode");
        assert.deepEqual(key.providers, ["codex"]);
        assert.deepEqual(key.models, ["gpt-5*", "claude-sonnet-4-5"]);
        assert.deepEqual(key.limits, { requestsPerMinute: 60 });
        assert.ok(secret.startsWith(key.prefix));
      });

      let xssSecret = "";
      await t.step("a key labelled with markup shows the label as text", async () => {
        await page.click("text=Create key");
        await page.fill(".key-form input[type=text] >> nth=0", XSS_LABEL);
        await page.click(".key-form button[type=submit]");
        await page.locator("input.secret").waitFor();
        xssSecret = await page.locator("input.secret").inputValue();
        await page.click("text=I have saved it");
        const card = page.locator("#view-keys .card h3", { hasText: XSS_LABEL });
        await card.waitFor();
        assert.equal(await card.textContent(), XSS_LABEL);
        assert.equal(await page.locator("img").count(), 0, "an <img> was created from the label");
        await page.waitForTimeout(300);
        assert.deepEqual(problems.dialogs, []);
        await screenshot(page, "keys-1280.png");
      });

      await t.step("revokes a key after confirming, then offers to delete it", async () => {
        const card = page.locator("#view-keys .card", { hasText: "laptop opencode" });
        await card.locator("button", { hasText: "Revoke" }).click();
        await page.locator("dialog button", { hasText: "Revoke key" }).click();
        await card.locator(".badge", { hasText: "Revoked" }).waitFor();
        await card.locator("button", { hasText: "Delete" }).waitFor();
        const listed = await adminFetch(base, token, "/admin/keys");
        const key = listed.body.keys.find((k: { label: string }) => k.label === "laptop opencode");
        assert.equal(typeof key.revokedAt, "number");
      });

      await t.step(
        "imports the Copilot hosts.json fixture by paste and lists the account",
        async () => {
          await closeDialogs(page);
          await openView(page, "accounts");
          await page.click("text=Import credentials");
          await page.locator("dialog select").selectOption("copilot");
          await page.fill("dialog textarea", await Deno.readTextFile(HOSTS_FIXTURE));
          await screenshot(page, "import-1280.png");
          await page.click("dialog button[type=submit]");
          await page.locator("dialog .success-box").waitFor();
          assert.match(await page.locator("dialog .success-box").textContent() ?? "", /Imported/);
          await page.click("dialog .dialog-head button");
          await page.locator("#view-accounts .card", { hasText: "octo-fixture" }).waitFor();
        },
      );

      await t.step("a Copilot device flow completes by itself, without a page reload", async () => {
        await closeDialogs(page);
        await page.evaluate(() => Object.assign(globalThis, { __sameDocument: true }));
        await page.click("text=Connect account");
        await page.check("dialog input[name=provider][value=copilot]");
        await page.click("dialog button[type=submit]");
        const code = page.locator("dialog .user-code");
        await code.waitFor();
        const userCode = (await code.textContent())?.trim() ?? "";
        assert.match(userCode, /^[A-Z0-9]+-[A-Z0-9]+$/);
        const href = await page.locator("dialog a.verification-link").getAttribute("href");
        assert.ok(href?.startsWith(fakes.github.url), href ?? "no link");
        await screenshot(page, "connect-device-1280.png");
        fakes.github.approve(userCode, { login: "device-octo" });
        await page.locator("dialog .success-box", { hasText: "is connected" }).waitFor({
          timeout: 15_000,
        });
        assert.equal(await page.evaluate(() => "__sameDocument" in globalThis), true);
        await page.click("dialog button:has-text('Done')");
        await page.locator("#view-accounts .card", { hasText: "device-octo" }).waitFor();
      });

      await t.step("a Codex browser login completes from the pasted callback URL", async () => {
        await closeDialogs(page);
        await page.click("text=Connect account");
        await page.check("dialog input[name=provider][value=codex]");
        await page.check("dialog input[name=codexMode][value=browser]");
        await page.click("dialog button[type=submit]");
        const link = page.locator("dialog a.button-link");
        await link.waitFor();
        const authorize = new URL(await link.getAttribute("href") ?? "");
        assert.equal(authorize.origin, fakes.openaiAuth.url);
        const state = authorize.searchParams.get("state") ?? "";
        const code = fakes.openaiAuth.authorize({
          codeChallenge: authorize.searchParams.get("code_challenge") ?? "",
          state,
          identity: { email: "browser-codex@example.com" },
        });
        await screenshot(page, "connect-codex-1280.png");
        await page.fill(
          "dialog textarea",
          `http://localhost:1455/auth/callback?code=${code}&state=${state}`,
        );
        await page.click("dialog button[type=submit]");
        await page.locator("dialog .success-box", { hasText: "is connected" }).waitFor();
        await page.click("dialog button:has-text('Done')");
        await page.locator("#view-accounts .card", { hasText: "browser-codex@example.com" })
          .first().waitFor();
      });

      await t.step("a Claude login completes from a pasted code#state", async () => {
        await page.click("text=Connect account");
        await page.check("dialog input[name=provider][value=claude]");
        await page.click("dialog button[type=submit]");
        const link = page.locator("dialog a.button-link");
        await link.waitFor();
        const authorize = new URL(await link.getAttribute("href") ?? "");
        const state = authorize.searchParams.get("state") ?? "";
        const code = fakes.claudePlatform.authorize({
          codeChallenge: authorize.searchParams.get("code_challenge") ?? "",
          state,
          identity: { email: "pasted-claude@example.com" },
        });
        await page.fill("dialog textarea", "wrong#code");
        await page.click("dialog button[type=submit]");
        await page.locator("dialog .form-message").filter({ hasText: /\S/ }).waitFor();
        await page.fill("dialog textarea", `${code}#${state}`);
        await page.click("dialog button[type=submit]");
        await page.locator("dialog .success-box", { hasText: "is connected" }).waitFor();
        await page.click("dialog button:has-text('Done')");
        await page.locator("#view-accounts .card", { hasText: "pasted-claude@example.com" })
          .first().waitFor();
      });

      await t.step("imports Codex auth.json with the takeover warning shown", async () => {
        await closeDialogs(page);
        await page.click("text=Import credentials");
        await page.locator("dialog select").selectOption("codex");
        assert.match(
          await page.locator("dialog .warning-box").textContent() ?? "",
          /takes over the refresh chain/,
        );
        await page.fill("dialog textarea", await Deno.readTextFile(CODEX_FIXTURE));
        await page.click("dialog button[type=submit]");
        await page.locator("dialog .success-box").waitFor();
        await page.click("dialog .dialog-head button");
        await page.locator("#provider-codex").waitFor();
        await page.locator("#view-accounts .card", { hasText: "dev@example.com" }).first()
          .waitFor();
      });

      await t.step(
        "imports Claude token values; the expiry countdown ticks each second",
        async () => {
          await closeDialogs(page);
          await page.click("text=Import credentials");
          await page.locator("dialog select").selectOption("claude");
          await page.check("dialog input[name=importMode][value=fields]");
          await page.fill("dialog input[type=password] >> nth=0", "sk-ant-oat01-fixture-access");
          await page.fill("dialog input[type=password] >> nth=1", "sk-ant-ort01-fixture-refresh");
          await page.fill(
            "dialog input[type=datetime-local]",
            await page.evaluate<string>(IN_TWO_HOURS),
          );
          await page.fill("dialog .import-fields input[type=text]", "claude-fields");
          await page.click("dialog button[type=submit]");
          await page.locator("dialog .success-box").waitFor();
          await page.click("dialog .dialog-head button");
          const card = page.locator("#view-accounts .card", { hasText: "claude-fields" });
          await card.waitFor();
          const countdown = card.locator("dd[data-tick]").first();
          const first = await countdown.textContent();
          // The import refreshed the tokens at once: the countdown is the new token's
          // (the fake's tokens last 8 h), not the 2 h entered.
          assert.match(first ?? "", /^in 7 h 5\d min \d\d s$/);
          const deadline = Date.now() + 3_000;
          while (await countdown.textContent() === first) {
            assert.ok(Date.now() < deadline, "the countdown did not tick");
            await new Promise((r) => setTimeout(r, 100));
          }
        },
      );

      await t.step("Check quota shows the provider's live windows as bars", async () => {
        const card = page.locator("#view-accounts .card", { hasText: "claude-fields" });
        await card.locator("button", { hasText: "Check quota" }).click();
        await card.locator(".quota [role=progressbar]").first().waitFor();
        const now = await card.locator(".quota [role=progressbar]").first().getAttribute(
          "aria-valuenow",
        );
        assert.match(now ?? "", /^\d+$/);
        await screenshot(page, "accounts-1280.png");
      });

      await t.step("usage from proxied requests appears in totals, charts and tables", async () => {
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${base}/anthropic/v1/messages`, {
            method: "POST",
            headers: {
              "x-api-key": xssSecret,
              "content-type": "application/json",
              "anthropic-version": "2023-06-01",
            },
            body: JSON.stringify({
              model: "claude-sonnet-4-5",
              max_tokens: 64,
              messages: [{ role: "user", content: `hello ${i}` }],
            }),
          });
          assert.equal(res.status, 200, await res.text());
        }
        // Usage is aggregated off the request path (a queue): wait until it lands.
        const deadline = Date.now() + 10_000;
        while (
          (await adminFetch(base, token, "/admin/usage?windowMs=3600000")).body.totals.requests < 3
        ) {
          assert.ok(Date.now() < deadline, "usage never arrived");
          await new Promise((r) => setTimeout(r, 200));
        }
        await openView(page, "usage");
        await page.locator("#view-usage label", { hasText: "1 h" }).click();
        await page.locator("#view-usage .stat-value", { hasText: "3" }).first().waitFor();
        // Charts draw on the next layout (ResizeObserver), so wait for the bars.
        await page.locator("#view-usage rect.bar-rect").first().waitFor();
        const bars = await page.locator("#view-usage svg[role=img]").first().getAttribute(
          "aria-label",
        );
        assert.match(bars ?? "", /3 requests: 3 2xx/);
        await page.locator("#view-usage table th", { hasText: XSS_LABEL }).waitFor();
        await page.locator("#view-usage select").selectOption("model");
        await page.locator("#view-usage table th", { hasText: "claude-sonnet-4-5" }).waitFor();
        assert.equal(await page.locator("img").count(), 0);
      });

      await t.step(
        "rotating a key shows the new secret once; its usage opens in a dialog",
        async () => {
          await openView(page, "keys");
          const card = page.locator("#view-keys .card", { hasText: XSS_LABEL });
          await card.locator("button", { hasText: "Rotate" }).click();
          await page.fill("dialog input[type=number]", "60");
          await page.click("dialog button[type=submit]");
          const secretInput = page.locator("input.secret");
          await secretInput.waitFor();
          const rotated = await secretInput.inputValue();
          assert.match(rotated, /^kleis_/);
          assert.notEqual(rotated, xssSecret);
          await page.click("text=I have saved it");
          // The dialog's close event (which removes it) runs after the click returns.
          await secretInput.waitFor({ state: "detached" });
          await card.locator("dd", { hasText: /^until / }).waitFor();
          assert.ok(
            !(await pageContents(page)).includes(rotated),
            "rotated secret left in the page",
          );
          // Both secrets work during the grace period.
          for (const key of [xssSecret, rotated]) {
            const res = await fetch(`${base}/v1/models`, {
              headers: { authorization: `Bearer ${key}` },
            });
            assert.equal(res.status, 200);
            await res.body?.cancel();
          }
          await card.locator("button", { hasText: "Usage" }).click();
          await page.locator("dialog rect.bar-rect").first().waitFor();
          await screenshot(page, "key-usage-1280.png");
          await closeDialogs(page);
        },
      );

      await t.step("the audit log pages newest first with Load more", async () => {
        for (let i = 0; i < 45; i++) {
          const res = await adminFetch(base, token, "/admin/keys", {
            method: "POST",
            body: JSON.stringify({ label: `bulk ${String(i).padStart(2, "0")}` }),
          });
          assert.equal(res.status, 201);
        }
        await openView(page, "audit");
        const rows = page.locator("#view-audit tbody tr");
        await rows.first().waitFor();
        assert.equal(await rows.count(), 50);
        assert.match(await rows.first().textContent() ?? "", /bulk 44/);
        const total = (await adminFetch(base, token, "/admin/audit?limit=200")).body.entries.length;
        assert.ok(total > 50);
        await page.click("#view-audit button:has-text('Load more')");
        await page.locator(`#view-audit tbody tr >> nth=${total - 1}`).waitFor();
        assert.equal(await rows.count(), total);
        assert.match(await rows.last().textContent() ?? "", /Admin sign-in failed/);
        assert.equal(await page.isVisible("#view-audit button:has-text('Load more')"), false);
      });

      await t.step("editing a key sets and then clears its scopes and expiry", async () => {
        await openView(page, "keys");
        const card = page.locator("#view-keys .card", { hasText: "bulk 00" });
        const findKey = async () =>
          (await adminFetch(base, token, "/admin/keys")).body.keys.find((k: { label: string }) =>
            k.label === "bulk 00"
          );
        await card.locator("button", { hasText: "Edit" }).click();
        await page.check("dialog input[type=checkbox][value=claude]");
        await page.fill(
          "dialog input[type=datetime-local]",
          await page.evaluate<string>(IN_TWO_HOURS),
        );
        await page.fill("dialog input[placeholder='no limit'] >> nth=2", "4");
        await page.click("dialog button[type=submit]");
        await page.locator("dialog").waitFor({ state: "detached" });
        await card.locator("dd", { hasText: "Anthropic Claude" }).waitFor();
        let key = await findKey();
        assert.deepEqual(key.providers, ["claude"]);
        assert.equal(typeof key.expiresAt, "number");
        assert.deepEqual(key.limits, { concurrent: 4 });

        await card.locator("button", { hasText: "Edit" }).click();
        await page.uncheck("dialog input[type=checkbox][value=claude]");
        await page.fill("dialog input[type=datetime-local]", "");
        await page.fill("dialog input[placeholder='no limit'] >> nth=2", "");
        await page.click("dialog button[type=submit]");
        await page.locator("dialog").waitFor({ state: "detached" });
        await card.locator("dd", { hasText: /^all$/ }).first().waitFor();
        key = await findKey();
        assert.equal(key.providers, undefined);
        assert.equal(key.expiresAt, undefined);
        assert.equal(key.limits, undefined);
      });

      await t.step("an account can be made primary, disabled and deleted", async () => {
        await openView(page, "accounts");
        const card = page.locator("#view-accounts .card", { hasText: "device-octo" });
        await card.locator("button", { hasText: "Make primary" }).click();
        await card.locator(".badge", { hasText: "Primary" }).waitFor();
        await card.locator("button", { hasText: "Disable" }).click();
        await card.locator(".badge", { hasText: "Disabled" }).waitFor();
        await card.locator("button", { hasText: "Delete" }).click();
        await page.locator("dialog button", { hasText: "Delete account" }).click();
        await card.waitFor({ state: "detached" });
        const listed = (await adminFetch(base, token, "/admin/accounts")).body.accounts;
        assert.ok(!listed.some((a: { label: string }) => a.label === "device-octo"));
        const copilot = listed.filter((a: { provider: string }) => a.provider === "copilot");
        assert.equal(copilot.filter((a: { isPrimary: boolean }) => a.isPrimary).length, 1);
      });

      await t.step("downloads an encrypted backup and restores it from the file", async () => {
        await openView(page, "audit");
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.click("#view-audit button:has-text('Download backup')"),
        ]);
        const file = `${kleis.dir}/backup.json`;
        await download.saveAs(file);
        const backup = JSON.parse(await Deno.readTextFile(file));
        assert.equal(typeof backup.sealed, "string");
        assert.ok(!JSON.stringify(backup).includes(secret), "a key secret in the backup");
        await page.setInputFiles("#view-audit .restore input[type=file]", file);
        await page.click("#view-audit .restore button[type=submit]");
        await page.click("dialog button:has-text('Restore')");
        const done = page.locator("#view-audit .success-box", { hasText: "Restored" });
        await done.waitFor();
        const accounts = (await adminFetch(base, token, "/admin/accounts")).body.accounts.length;
        const keys = (await adminFetch(base, token, "/admin/keys")).body.keys.length;
        assert.equal(await done.textContent(), `Restored ${accounts} accounts and ${keys} keys.`);
      });

      await t.step("scheduled backups: the target, Back up now, the last success", async () => {
        await closeDialogs(page);
        await openView(page, "audit");
        const section = page.locator("#view-audit section", { hasText: "Scheduled backups" });
        await section.locator("dd", { hasText: `dir:${backupDir}` }).waitFor();
        await section.locator("button:has-text('Back up now')").click();
        await section.locator(".badge", { hasText: "Working" }).waitFor();
        const files = [...Deno.readDirSync(backupDir)].map((e) => e.name);
        assert.equal(files.length, 1);
        await section.locator("dd", { hasText: files[0]! }).first().waitFor();
        await Deno.remove(backupDir, { recursive: true });
      });

      await t.step("screenshots of every view at 1280 px and 375 px", async () => {
        await closeDialogs(page);
        await openView(page, "usage");
        await screenshot(page, "usage-1280.png");
        await openView(page, "audit");
        await screenshot(page, "audit-1280.png");

        const phone = await browser.newPage({ width: 375, height: 812 });
        await signIn(phone.page, base, token);
        for (const view of ["accounts", "keys", "usage", "audit"]) {
          await openView(phone.page, view);
          await screenshot(phone.page, `${view}-375.png`);
          const overflow = await phone.page.evaluate<number>(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth",
          );
          assert.equal(overflow, 0, `the ${view} view scrolls sideways at 375 px`);
        }
        await openView(phone.page, "accounts");
        await phone.page.click("text=Connect account");
        await phone.page.locator("dialog").waitFor();
        await phone.page.screenshot({ path: await artifactPath("connect-375.png") });

        const dark = await browser.newPage({ colorScheme: "dark" });
        await signIn(dark.page, base, token);
        await openView(dark.page, "accounts");
        await screenshot(dark.page, "accounts-dark-1280.png");
        await openView(dark.page, "usage");
        await screenshot(dark.page, "usage-dark-1280.png");
        await dark.context.close();
        await phone.context.close();
      });

      await t.step("signing out forgets the token", async () => {
        await closeDialogs(page);
        await page.goto(`${base}/admin/#keys`);
        await page.locator("#app").waitFor({ state: "visible" });
        await page.click("#signout");
        await page.locator("#signin").waitFor({ state: "visible" });
        assert.equal(await page.evaluate(() => sessionStorage.length), 0);
        await page.reload();
        await page.locator("#signin").waitFor({ state: "visible" });
      });

      await t.step("a locked-out address is told how long to wait", async () => {
        for (let i = 0; i < 10; i++) {
          const res = await fetch(`${base}/admin/audit`, {
            headers: { authorization: "Bearer wrong-wrong-wrong-wrong-wrong-wrong" },
          });
          await res.body?.cancel();
        }
        await page.fill("#signin-token", token);
        await page.click("#signin-submit");
        await signinMessageMatches(page, /Try again in \d+ min/);
        assert.equal(await page.isDisabled("#signin-submit"), true);
        await screenshot(page, "signin-lockout-1280.png");
      });

      assert.deepEqual(problems.dialogs, [], "a JavaScript dialog opened");
      assert.deepEqual(problems.pageErrors, [], "the page threw");
      assert.deepEqual(
        problems.consoleErrors.filter((m) => /Content Security Policy/i.test(m)),
        [],
        "the page broke its own CSP",
      );
    } finally {
      await fakes.close();
    }
  },
});

/**
 * Headless Chromium (Debian's `chromium` package) driven by playwright-core,
 * for the admin page tests. Each page records what should never happen: a
 * JavaScript dialog (an alert from injected markup), an uncaught page error,
 * a console error, or a CSP violation.
 */
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
}

/** Fails the test with the fix when Chromium is missing (setup.sh installs it). */
export function requireChromium(): void {
  if (!chromiumAvailable()) {
    throw new Error(`Chromium is not at ${CHROMIUM_PATH}; run tests/support/install_chromium.sh`);
  }
}

export interface PageProblems {
  dialogs: string[];
  pageErrors: string[];
  consoleErrors: string[];
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (own sessionStorage) and page at the given viewport. */
  newPage(options?: { width?: number; height?: number; colorScheme?: "light" | "dark" }): Promise<{
    page: Page;
    context: BrowserContext;
    problems: PageProblems;
  }>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
  const close = async () => {
    await browser.close();
  };
  return {
    browser,
    async newPage(options = {}) {
      const context = await browser.newContext({
        viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
        colorScheme: options.colorScheme ?? "light",
        permissions: ["clipboard-read", "clipboard-write"],
      });
      const page = await context.newPage();
      const problems: PageProblems = { dialogs: [], pageErrors: [], consoleErrors: [] };
      page.on("dialog", (dialog) => {
        problems.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
        dialog.dismiss().catch(() => {});
      });
      page.on("pageerror", (error) => problems.pageErrors.push(String(error)));
      page.on("console", (message) => {
        if (message.type() === "error") problems.consoleErrors.push(message.text());
      });
      return { page, context, problems };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Where screenshots go (gitignored); created on demand. */
export async function artifactPath(name: string): Promise<string> {
  const dir = new URL("../../test-artifacts/", import.meta.url).pathname;
  await Deno.mkdir(dir, { recursive: true });
  return `${dir}${name}`;
}

/** Opens the admin page and signs in with the admin token; resolves once the app shows. */
export async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/admin/`);
  await page.fill("#signin-token", token);
  await page.click("#signin-submit");
  await page.locator("#app").waitFor({ state: "visible" });
}

/** Opens a view from the nav; resolves once it shows and has loaded. */
export async function openView(page: Page, name: string): Promise<void> {
  await page.click(`#tabs a[data-view="${name}"]`);
  await page.locator(`#view-${name}`).waitFor({ state: "visible" });
  // Locators, not waitForFunction: its string predicates need eval, which the page's CSP forbids.
  await page.waitForSelector(`#view-${name} [aria-busy="true"]`, { state: "detached" });
}

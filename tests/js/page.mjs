// Drives the browser example page (examples/browser) in headless Chromium with playwright-core.
import { chromium } from "playwright-core";

export const chromiumArgs = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];

/**
 * Loads pageURL, waits until the page's status is "done" or "error", and returns
 * { state, lines, consoleErrors }. Saves a screenshot when asked.
 */
export async function runPage(pageURL, { screenshot, timeout = 20000 } = {}) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: chromiumArgs });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 560 } });
    const consoleErrors = [];
    page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    await page.goto(pageURL);
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout });
    const state = await page.getAttribute("#status", "data-state");
    const lines = await page.$$eval("#log li", (lis) => lis.map((li) => ({ kind: li.className, text: li.textContent })));
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { state, lines, consoleErrors, page, browser };
  } catch (e) {
    await browser.close();
    throw e;
  }
}

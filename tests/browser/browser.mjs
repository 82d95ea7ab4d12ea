// Real-browser checks run by `cargo test` (tests/browser.rs): Debian chromium, headless, via playwright-core.
//   node browser.mjs live-reload URL FILE OLD NEW   edit FILE while URL is open; the page must show NEW without a manual reload
//   node browser.mjs search URL QUERY EXPECTED      type QUERY into the search page; a result titled EXPECTED must appear
import { chromium } from "playwright-core";
import { readFileSync, writeFileSync } from "node:fs";

const [mode, url, ...rest] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const fail = async (msg) => { console.error(msg); await browser.close(); process.exit(1); };
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  if (mode === "live-reload") {
    const [file, oldText, newText] = rest;
    await page.goto(url, { waitUntil: "load" });
    if (!(await page.content()).includes(oldText)) await fail(`page does not show "${oldText}" before the edit`);
    // Let the page's reload poll connect before editing.
    await page.waitForTimeout(500);
    writeFileSync(file, readFileSync(file, "utf8").replace(oldText, newText));
    await page.waitForFunction((t) => document.body.innerText.includes(t), newText, { timeout: 15000 })
      .catch(() => fail(`page did not show "${newText}" within 15 s of the edit`));
  } else if (mode === "search") {
    const [query, expected] = rest;
    await page.goto(url, { waitUntil: "load" });
    await page.fill("#cb-search-q", query);
    await page.press("#cb-search-q", "Enter");
    await page.waitForFunction((t) => [...document.querySelectorAll("#cb-search-results a")].some((a) => a.textContent.includes(t)),
      expected, { timeout: 15000 }).catch(() => fail(`no result "${expected}" for "${query}"`));
    const status = await page.textContent("#cb-search-status");
    console.log(`search "${query}": ${status}`);
  } else {
    await fail(`unknown mode ${mode}`);
  }
  if (errors.length) await fail(`page errors: ${errors.join("; ")}`);
  console.log("ok");
} finally {
  await browser.close();
}

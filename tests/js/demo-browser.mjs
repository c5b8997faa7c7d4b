// Demo step (examples/demo.d/40-browser.sh): headless Chromium loads the browser example
// page from PAGE_URL and prints what it exchanged with the server.
import { runPage } from "./page.mjs";

const marks = { out: "→", in: "←", cb: "⇠", err: "!" };
const { state, lines, browser } = await runPage(process.env.PAGE_URL, { screenshot: process.env.SCREENSHOT });
await browser.close();
for (const { kind, text } of lines) console.log(`  ${marks[kind] ?? kind} ${text}`);
if (state !== "done") {
  console.error(`page ended in state ${state}`);
  process.exit(1);
}

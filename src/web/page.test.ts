// The chat page: self-contained (nothing fetched from elsewhere), and in headless Chromium (Debian's
// chromium + playwright-core, when both are installed; skipped otherwise) a message sent on the page shows
// the streamed reasoning and the stats line.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../../test/fixtures.js";
import { loadEngine } from "../generate/engine.js";
import { startServer } from "../server/server.js";
import { chatPage } from "./page.js";

test("the page is one self-contained file", () => {
  const html = chatPage();
  assert.ok(!/(src|href)=["']?(https?:)?\/\//i.test(html), "the page loads something from another origin");
  assert.ok(!/@import|url\(/i.test(html));
  for (const id of ['id="input"', 'id="send"', "details.reasoning", "localStorage", "reasoning_content"])
    assert.ok(html.includes(id), id);
});

const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

// Typed by hand: playwright-core is optional and not a dependency.
interface PwPage {
  goto(url: string): Promise<unknown>;
  fill(sel: string, v: string): Promise<void>;
  click(sel: string): Promise<void>;
  waitForFunction(expr: string, arg: null, o: { timeout: number }): Promise<unknown>;
  textContent(sel: string): Promise<string | null>;
  reload(): Promise<unknown>;
  locator(sel: string): { count(): Promise<number> };
}
interface PwBrowser {
  newPage(): Promise<PwPage>;
  close(): Promise<void>;
}

async function playwright(): Promise<{ chromium: { launch(o: object): Promise<PwBrowser> } } | undefined> {
  try {
    const name = "playwright-core";
    return await import(name);
  } catch {
    return undefined;
  }
}

test("headless Chromium: a message shows reasoning, the answer and stats", async (t) => {
  const pw = await playwright();
  if (!pw || !chromium) return t.skip("needs chromium and playwright-core");
  // The default model closes </think> and answers, so both parts must show.
  const srv = await startServer({ engine: loadEngine(join(ROOT, "models", "r1-tiny")), modelName: "r1-tiny", port: 0 });
  // The flags keep Chromium off the network (this machine refuses it, and a CI host may drop it instead).
  const browser = await pw.chromium.launch({
    executablePath: chromium,
    timeout: 60_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto(srv.url);
    await page.fill("#max", "400");
    await page.fill("#input", "What is 12+34?");
    await page.click("#send");
    // Expressions run in the page (strings, so this file needs no DOM types).
    const stats = `document.querySelector(".assistant .stats")?.textContent ?? ""`;
    await page.waitForFunction(`/tokens\\/s/.test(${stats})`, null, { timeout: 30_000 });
    await page.waitForFunction(`/deepseek-r1 \\$/.test(${stats})`, null, { timeout: 15_000 });
    const reasoning = await page.textContent(".assistant .rtext");
    assert.ok((reasoning ?? "").length > 0);
    assert.match((await page.textContent(".assistant .answer")) ?? "", /^\d+$/);
    await page.reload();
    assert.equal(await page.locator(".msg").count(), 2, "the conversation survives a reload");
  } finally {
    await browser.close();
    await srv.close(2000);
  }
});

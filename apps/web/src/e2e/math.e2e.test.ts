import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { desktop, lastAnswer, mobile, runBrowserTests, send, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E();

/** Whether the page has fetched the lazily loaded math renderer (its chunk is named after math-plugins.ts). */
const mathLoaded = (page: Page) =>
  page.evaluate(() => performance.getEntriesByType("resource").some((entry) => /\/assets\/math-plugins-[^/]*\.js$/.test(entry.name)));

describe.skipIf(!runBrowserTests)("math in answers", () => {
  it("loads KaTeX with the first answer that holds math, and renders it with its fonts under the CSP", async () => {
    const page = await e2e.openApp(desktop);
    await send(page, "hi");
    await waitForAnswerState(page, "stop");
    expect(await mathLoaded(page)).toBe(false);

    await send(page, "Write a long answer about sampling temperature");
    await waitForAnswerState(page, "stop");
    const answer = lastAnswer(page);
    const display = answer.locator(".katex-display");
    await display.waitFor();
    expect(await display.count()).toBe(1);
    expect(await display.locator('annotation[encoding="application/x-tex"]').textContent()).toBe(
      "p_i = \\frac{\\exp(z_i / T)}{\\sum_j \\exp(z_j / T)}",
    );
    // \(…\) and $…$ inline, each a formula within its line of text.
    const inline = answer.locator("p .katex, li .katex");
    expect(await inline.count()).toBeGreaterThanOrEqual(8);
    expect(await answer.locator(".katex-error").count()).toBe(0);
    expect(await mathLoaded(page)).toBe(true);
    // The fonts came from the server under its CSP (font-src 'self'): KaTeX's own glyphs, not a fallback.
    const loadedFonts = await page.evaluate(async () => {
      await document.fonts.ready;
      return [...document.fonts].filter((font) => font.status === "loaded").map((font) => font.family.replace(/"/g, ""));
    });
    expect(loadedFonts).toEqual(expect.arrayContaining(["KaTeX_Main", "KaTeX_Math"]));
    // KaTeX's stylesheet came too: the MathML (for screen readers) is out of the layout, and the fraction is set as
    // one, taller than a line of text.
    expect(await display.locator(".katex-mathml").evaluate((el) => getComputedStyle(el).position)).toBe("absolute");
    const line = await answer.locator("p").first().evaluate((el) => parseFloat(getComputedStyle(el).lineHeight));
    const formula = await display.locator(".katex-html").boundingBox();
    expect(formula!.height).toBeGreaterThan(1.4 * line);
  });

  it("keeps a long equation within the message on a phone: it scrolls on its own", async () => {
    const tex = Array.from({ length: 24 }, (_, i) => `a_{${i}} x^{${i}}`).join(" + ");
    e2e.sim.addScenario({ name: "wide-math", match: { lastUserIncludes: "[wide-math]" }, chunks: [{ content: `The polynomial:\n\n\\[ ${tex} \\]\n\nDone.` }, { done: true }] });
    const page = await e2e.openApp(mobile);
    await send(page, "Show it [wide-math]");
    await waitForAnswerState(page, "stop");
    const display = lastAnswer(page).locator(".math-display");
    await display.waitFor();
    const sizes = await display.evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, overflowX: getComputedStyle(el).overflowX }));
    expect(sizes.overflowX).toBe("auto");
    expect(sizes.scrollWidth).toBeGreaterThan(sizes.clientWidth);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(mobile.viewport.width);
    e2e.sim.clearScenarios();
  });
});

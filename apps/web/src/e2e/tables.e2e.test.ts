import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { lastAnswer, mobile, runBrowserTests, send, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E();

const wideTable = [
  "| City | Country | Population | Area | Founded | Mayor | Timezone | Airport |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
  "| Tokyo | Japan | 37,400,000 | 2,194 km² | 1457 | Yuriko Koike | Asia/Tokyo | Haneda International |",
  "| São Paulo | Brazil | 22,000,000 | 1,521 km² | 1554 | Ricardo Nunes | America/Sao_Paulo | Guarulhos International |",
].join("\n");
const narrowTable = ["| A | B |", "| --- | --- |", "| 1 | 2 |"].join("\n");

/** The fades at the table's edges (styles.css: --table-fade-start / --table-fade-end), and whether it scrolls. */
function edges(table: Locator) {
  return table.evaluate((el) => {
    const style = getComputedStyle(el);
    return {
      scrolls: el.scrollWidth > el.clientWidth,
      start: style.getPropertyValue("--table-fade-start"),
      end: style.getPropertyValue("--table-fade-end"),
    };
  });
}

/**
 * How dark the table shows at its left edge, its middle and its right edge (0 white … 1 black), painted black for the
 * look: what reaches the screen through the mask, read from a real screenshot.
 */
async function inkAcross(page: Page, table: Locator): Promise<{ left: number; middle: number; right: number }> {
  await table.evaluate((el) => (el.style.background = "#000"));
  const png = (await table.screenshot({ animations: "allow" })).toString("base64");
  await table.evaluate((el) => (el.style.background = ""));
  return page.evaluate(async (data) => {
    const img = new Image();
    img.src = `data:image/png;base64,${data}`;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext("2d")!;
    ctx.drawImage(img, 0, 0);
    // The median of a column of pixels: the cells' lines and text are no part of the answer.
    const ink = (x: number) => {
      const { data } = ctx.getImageData(x, 0, 1, img.height);
      const column: number[] = [];
      for (let i = 0; i < data.length; i += 4) column.push(1 - (data[i]! + data[i + 1]! + data[i + 2]!) / (3 * 255));
      return column.sort((a, b) => a - b)[Math.floor(column.length / 2)]!;
    };
    return { left: ink(1), middle: ink(Math.floor(img.width / 2)), right: ink(img.width - 2) };
  }, png);
}

/** Scrolls the table sideways and waits a frame for its scroll timeline to move the fades. */
async function scrollTable(page: Page, table: Locator, to: "middle" | "end"): Promise<void> {
  await table.evaluate((el, where) => {
    el.scrollLeft = where === "end" ? el.scrollWidth : (el.scrollWidth - el.clientWidth) / 2;
  }, to);
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

async function answerWith(page: Page, name: string, markdown: string): Promise<Locator> {
  e2e.sim.addScenario({ name, match: { lastUserIncludes: `[${name}]` }, chunks: [{ content: markdown }, { done: true }] });
  await send(page, `Show the table [${name}]`);
  await waitForAnswerState(page, "stop");
  return lastAnswer(page).locator("table");
}

describe.skipIf(!runBrowserTests)("tables wider than the message, on a phone", () => {
  for (const motion of ["no-preference", "reduce"] as const) {
    it(`fade out on the side that has more, and only there (reduced motion: ${motion})`, async () => {
      const page = await e2e.openApp(mobile);
      await page.emulateMedia({ reducedMotion: motion });
      const wide = await answerWith(page, `wide-${motion}`, wideTable);
      // At the start: more to the right only.
      expect(await edges(wide)).toEqual({ scrolls: true, start: "0px", end: "28px" });
      await scrollTable(page, wide, "middle");
      expect(await edges(wide)).toEqual({ scrolls: true, start: "28px", end: "28px" });
      await scrollTable(page, wide, "end");
      expect(await edges(wide)).toEqual({ scrolls: true, start: "28px", end: "0px" });
      // What shows: at the end, the left edge fades out (the page shows through), the right one does not.
      const scrolled = await inkAcross(page, wide);
      expect(scrolled.middle).toBeGreaterThan(0.9);
      expect(scrolled.left).toBeLessThan(0.2);
      expect(scrolled.right).toBeGreaterThan(0.9);

      const narrow = await answerWith(page, `narrow-${motion}`, narrowTable);
      expect(await edges(narrow)).toEqual({ scrolls: false, start: "0px", end: "0px" });
      const fits = await inkAcross(page, narrow);
      expect(Math.min(fits.left, fits.middle, fits.right)).toBeGreaterThan(0.9);
      e2e.sim.clearScenarios();
    });
  }
});

import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { box, contrastOf, desktop, mobile, runBrowserTests, useE2E, type Look } from "./harness.js";

const e2e = useE2E();

interface Painted {
  /** data-theme on <html>: the choice as the page applied it (null: the system's). */
  attribute: string | null;
  /** The used scheme of the root: what native controls, form fields and scrollbars are drawn in. */
  colorScheme: string;
  background: string;
  text: string;
  /** The UA's own `Canvas` colour where the app draws: light or dark as the native controls are. */
  canvas: string;
  /** What the (emulated) system prefers. */
  systemDark: boolean;
}

function painted(page: Page): Promise<Painted> {
  return page.evaluate(() => {
    const probe = document.createElement("div");
    probe.style.background = "Canvas";
    document.body.append(probe);
    const canvas = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return {
      attribute: document.documentElement.getAttribute("data-theme"),
      colorScheme: getComputedStyle(document.documentElement).colorScheme,
      background: getComputedStyle(document.body).backgroundColor,
      text: getComputedStyle(document.body).color,
      canvas,
      systemDark: matchMedia("(prefers-color-scheme: dark)").matches,
    };
  });
}

/** Relative luminance of an `rgb(…)` colour, 0 (black) to 1 (white). */
function luminance(color: string): number {
  const parts = /rgba?\(([^)]+)\)/.exec(color)?.[1]?.split(/[\s,/]+/).filter(Boolean).map(Number);
  if (!parts || parts.length < 3) throw new Error(`not an rgb colour: ${color}`);
  const [r, g, b] = parts.slice(0, 3).map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** What a page in `scheme` must show: a dark page is dark text-on-light inverted, all the way to the UA's controls. */
function expectScheme(p: Painted, scheme: "light" | "dark", why: string): void {
  if (scheme === "dark") {
    expect(luminance(p.background), `background ${p.background}: ${why}`).toBeLessThan(0.05);
    expect(luminance(p.text), `text ${p.text}: ${why}`).toBeGreaterThan(0.7);
    expect(luminance(p.canvas), `UA canvas ${p.canvas}: ${why}`).toBeLessThan(0.05);
  } else {
    expect(luminance(p.background), `background ${p.background}: ${why}`).toBeGreaterThan(0.9);
    expect(luminance(p.text), `text ${p.text}: ${why}`).toBeLessThan(0.05);
    expect(luminance(p.canvas), `UA canvas ${p.canvas}: ${why}`).toBeGreaterThan(0.9);
  }
}

const panel = (page: Page) => page.getByTestId("appearance-panel");
const option = (page: Page, name: "System" | "Light" | "Dark") => panel(page).getByRole("radio", { name, exact: true });

async function openPanel(page: Page): Promise<void> {
  if (await panel(page).evaluate((el) => (el as HTMLDetailsElement).open)) return;
  await panel(page).locator("summary").click();
  await panel(page).getByRole("radiogroup", { name: "Theme" }).waitFor();
}

async function choose(page: Page, name: "System" | "Light" | "Dark"): Promise<void> {
  await openPanel(page);
  await option(page, name).click();
  await expect.poll(() => option(page, name).isChecked()).toBe(true);
}

/** A fresh browser profile (its own localStorage) with the system in `scheme`, and `tabs` tabs of the app open. */
async function profile(scheme: "light" | "dark", tabs = 1, look: Look = desktop): Promise<Page[]> {
  const context = await e2e.browser.newContext({ viewport: look.viewport, colorScheme: scheme, isMobile: look.mobile, hasTouch: look.mobile });
  e2e.trackContext(context);
  const pages: Page[] = [];
  for (let i = 0; i < tabs; i++) {
    const page = await context.newPage();
    page.on("pageerror", (error) => e2e.onPageError(error.message));
    await page.goto(e2e.baseUrl + "/");
    await page.locator("#composer-input").waitFor();
    pages.push(page);
  }
  return pages;
}

/** The radios as Chromium's accessibility tree gives them to screen readers (not as the DOM says). */
async function announcedRadios(page: Page): Promise<{ group: string | null; radios: Array<{ name: string; checked: boolean }> }> {
  const cdp = await page.context().newCDPSession(page);
  try {
    type AXValue = { value?: unknown };
    type AXNode = { ignored: boolean; role?: AXValue; name?: AXValue; properties?: Array<{ name: string; value: AXValue }> };
    const { nodes } = (await cdp.send("Accessibility.getFullAXTree")) as { nodes: AXNode[] };
    const live = nodes.filter((n) => !n.ignored);
    const group = live.find((n) => n.role?.value === "radiogroup");
    const radios = live
      .filter((n) => n.role?.value === "radio")
      .map((n) => ({ name: String(n.name?.value ?? ""), checked: n.properties?.find((p) => p.name === "checked")?.value.value === "true" }));
    return { group: group ? String(group.name?.value ?? "") : null, radios };
  } finally {
    await cdp.detach();
  }
}

describe.skipIf(!runBrowserTests)("appearance: System / Light / Dark", () => {
  it("serves stylesheets without light-dark(): the build lowered each colour to custom properties a pre-2024 browser reads", async () => {
    // light-dark() is Chrome 123, Firefox 120, Safari 17.5: an older browser would drop every colour of the palette. The
    // build's CSS minifier (Lightning CSS, for Vite's default browser targets) rewrites each one as a pair of custom
    // properties switched by color-scheme and data-theme; the other tests here check that those give the right colours.
    const [page] = await profile("light");
    const sheets = await page!.evaluate(async () =>
      Promise.all(
        [...document.querySelectorAll<HTMLLinkElement>('link[rel="stylesheet"]')].map(async (link) => ({ href: link.href, css: await (await fetch(link.href)).text() })),
      ),
    );
    expect(sheets.length).toBeGreaterThan(0);
    for (const { href, css } of sheets) expect(css, href).not.toContain("light-dark(");
    const palette = sheets.map(({ css }) => css).join("\n");
    expect(palette).toMatch(/--bg:var\(--lightningcss-light,#fff\)\s*var\(--lightningcss-dark,#1b1c20\)/);
    expect(palette).toMatch(/:root\[data-theme=dark\]\{[^}]*--lightningcss-dark:initial/);
  });

  it("with the system light, choosing Dark from the keyboard makes the page dark, as the dark system does; a reload keeps it", async () => {
    // What the app looks like when the system itself is dark, to compare the choice with.
    const [systemDark] = await profile("dark");
    const reference = await painted(systemDark!);
    expect(reference.attribute).toBeNull();
    expectScheme(reference, "dark", "the system's dark");

    const [page] = await profile("light");
    const p = page!;
    const before = await painted(p);
    expect(before.systemDark).toBe(false);
    expect(before.attribute).toBeNull();
    expect(before.colorScheme).toBe("light dark");
    expectScheme(before, "light", "the system's light, nothing chosen");

    // The keyboard's way: the summary opens the panel, Tab enters the group on the checked radio, arrows move.
    await panel(p).locator("summary").focus();
    await p.keyboard.press("Enter");
    await panel(p).getByRole("radiogroup", { name: "Theme" }).waitFor();
    expect(await option(p, "System").isChecked()).toBe(true);
    await p.keyboard.press("Tab");
    expect(await p.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value)).toBe("system");
    await p.keyboard.press("ArrowRight");
    expect(await option(p, "Light").isChecked()).toBe(true);
    expect((await painted(p)).attribute).toBe("light");
    await p.keyboard.press("ArrowRight");
    expect(await option(p, "Dark").isChecked()).toBe(true);
    expect(await p.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value)).toBe("dark");

    const chosen = await painted(p);
    expect(chosen.systemDark).toBe(false); // the system is still light: the page follows the choice
    expect(chosen.attribute).toBe("dark");
    expect(chosen.colorScheme).toBe("dark");
    expectScheme(chosen, "dark", "Dark chosen under a light system");
    // The one palette: the same colours as a dark system gives.
    expect({ background: chosen.background, text: chosen.text, canvas: chosen.canvas }).toEqual({
      background: reference.background,
      text: reference.text,
      canvas: reference.canvas,
    });

    // The focused segment shows the focus ring; the checked one is what a screen reader hears.
    const focusedSegment = option(p, "Dark").locator("xpath=following-sibling::span");
    expect(await focusedSegment.evaluate((el) => getComputedStyle(el).outlineStyle)).toBe("solid");
    expect(await option(p, "Light").locator("xpath=following-sibling::span").evaluate((el) => getComputedStyle(el).outlineStyle)).toBe("none");
    expect(await announcedRadios(p)).toEqual({
      group: "Theme",
      radios: [
        { name: "System", checked: false },
        { name: "Light", checked: false },
        { name: "Dark", checked: true },
      ],
    });
    // The group is one tab stop: Tab leaves it for the next panel.
    await p.keyboard.press("Tab");
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe("Instructions");

    // Legible in the chosen theme (the checked and the other segments, the hint).
    for (const text of [
      option(p, "Dark").locator("xpath=following-sibling::span"),
      option(p, "System").locator("xpath=following-sibling::span"),
      panel(p).locator(".appearance-panel__hint"),
    ]) {
      expect(await contrastOf(text), `${await text.textContent()} (Dark under a light system)`).toBeGreaterThanOrEqual(4.5);
    }

    // Applied before the first frame, even when the app's script is slow to come (held here): a frame painted before
    // main.tsx ran would be the system's light, a white flash (the built entry script is render-blocking for that).
    await p.addInitScript(() => {
      const w = window as unknown as { __firstFrame?: { theme: string | null; background: string } };
      requestAnimationFrame(() => {
        w.__firstFrame = { theme: document.documentElement.getAttribute("data-theme"), background: getComputedStyle(document.body).backgroundColor };
      });
    });
    await p.route(/\/assets\/index-[^/]*\.js$/, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await route.continue();
    });
    await p.reload();
    await p.locator("#composer-input").waitFor();
    const firstFrame = await p.evaluate(() => (window as unknown as { __firstFrame?: { theme: string | null; background: string } }).__firstFrame);
    expect(firstFrame?.theme, "data-theme when the first frame was painted").toBe("dark");
    expect(luminance(firstFrame!.background), `the first frame's background ${firstFrame!.background}`).toBeLessThan(0.05);
    await p.unrouteAll();
    const reloaded = await painted(p);
    expect(reloaded.attribute).toBe("dark");
    expect(reloaded.colorScheme).toBe("dark");
    expectScheme(reloaded, "dark", "Dark after a reload");
    await openPanel(p);
    expect(await option(p, "Dark").isChecked()).toBe(true);
  });

  it("another open tab follows the choice, both ways", async () => {
    const [a, b] = (await profile("light", 2)) as [Page, Page];
    await openPanel(b);
    await choose(a, "Dark");
    await b.waitForFunction(() => document.documentElement.getAttribute("data-theme") === "dark");
    expectScheme(await painted(b), "dark", "the other tab, after Dark was chosen in the first");
    expect(await option(b, "Dark").isChecked()).toBe(true);

    await choose(b, "System");
    await a.waitForFunction(() => !document.documentElement.hasAttribute("data-theme"));
    const back = await painted(a);
    expect(back.colorScheme).toBe("light dark");
    expectScheme(back, "light", "the first tab, after System was chosen in the other");
    await openPanel(a);
    expect(await option(a, "System").isChecked()).toBe(true);
  });

  it("System follows the system as it changes; an explicit choice holds against it", async () => {
    const [page] = await profile("light");
    const p = page!;
    await openPanel(p);
    expect(await option(p, "System").isChecked()).toBe(true);

    await p.emulateMedia({ colorScheme: "dark" });
    expectScheme(await painted(p), "dark", "System, the system turned dark");
    await p.emulateMedia({ colorScheme: "light" });
    expectScheme(await painted(p), "light", "System, the system back to light");

    await choose(p, "Light");
    await p.emulateMedia({ colorScheme: "dark" });
    const light = await painted(p);
    expect(light.systemDark).toBe(true);
    expect(light.colorScheme).toBe("light");
    expectScheme(light, "light", "Light chosen under a dark system");
    for (const text of [panel(p).locator(".appearance-panel__hint"), option(p, "Light").locator("xpath=following-sibling::span")]) {
      expect(await contrastOf(text), `${await text.textContent()} (Light under a dark system)`).toBeGreaterThanOrEqual(4.5);
    }

    await choose(p, "Dark");
    await p.emulateMedia({ colorScheme: "light" });
    expectScheme(await painted(p), "dark", "Dark chosen under a light system, after the system changed");

    await choose(p, "System");
    expectScheme(await painted(p), "light", "System again: the system's light");
    await p.emulateMedia({ colorScheme: "dark" });
    expectScheme(await painted(p), "dark", "System again: the system's dark");
  });

  it("an explicit Light stays light under a dark system, also from the start of a page", async () => {
    const [page] = await profile("dark");
    const p = page!;
    expectScheme(await painted(p), "dark", "the system's dark, nothing chosen");
    await choose(p, "Light");
    await p.reload();
    await p.locator("#composer-input").waitFor();
    const reloaded = await painted(p);
    expect(reloaded.systemDark).toBe(true);
    expect(reloaded.attribute).toBe("light");
    expectScheme(reloaded, "light", "Light after a reload under a dark system");
    // Dark-only rules follow the choice too: the solid danger button's text is the light theme's white.
    expect(
      await p.evaluate(() => {
        const b = document.createElement("button");
        b.className = "button button--danger-solid";
        document.body.append(b);
        const color = getComputedStyle(b).color;
        b.remove();
        return color;
      }),
    ).toBe("rgb(255, 255, 255)");
  });

  it("works in the phone's drawer: within the screen, by touch; Escape folds the panel, then closes the drawer", async () => {
    const [page] = await profile("light", 1, mobile);
    const p = page!;
    await p.getByRole("button", { name: "Show conversations" }).click();
    await p.waitForFunction(() => document.getElementById("sidebar")!.getBoundingClientRect().left >= 0);
    await panel(p).locator("summary").tap();
    for (const name of ["System", "Light", "Dark"] as const) {
      const segment = await box(option(p, name).locator("xpath=.."));
      expect(segment.x, name).toBeGreaterThanOrEqual(0);
      expect(segment.x + segment.width, name).toBeLessThanOrEqual(mobile.viewport.width);
      expect(segment.height, `${name}: a finger's target`).toBeGreaterThanOrEqual(24);
    }
    await option(p, "Dark").tap();
    await p.waitForFunction(() => document.documentElement.getAttribute("data-theme") === "dark");
    expectScheme(await painted(p), "dark", "Dark chosen in the drawer");

    await option(p, "Dark").focus();
    await p.keyboard.press("Escape");
    expect(await panel(p).evaluate((el) => (el as HTMLDetailsElement).open)).toBe(false);
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe("Appearance");
    expect(await p.locator("#sidebar").isVisible()).toBe(true);
    await p.keyboard.press("Escape");
    await p.locator("#sidebar").waitFor({ state: "hidden" });
  });
});

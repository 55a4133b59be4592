import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { solidPng } from "@streamchat/ollama-sim";
import { chooseModel, desktop, lastAnswer, runBrowserTests, send, startApi, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E({ tokenDelayMs: 5 });

const dir = mkdtempSync(join(tmpdir(), "streamchat-e2e-images-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!runBrowserTests)("model capabilities in the browser", () => {
  it("gives a refused message's images back to the composer with its text; they go with the next send", async () => {
    const png = solidPng(8, 8, [20, 200, 40]);
    const path = join(dir, "green.png");
    writeFileSync(path, png);
    // A server with a lower limit than the page assumes: the refusal comes from the server, after the tray was emptied.
    const strict = await startApi({ MAX_MESSAGE_CHARS: "1000" }, 5);
    try {
      const page = await e2e.newPage(desktop, await strict.listen());
      await chooseModel(page, "demo-vision");
      await page.getByTestId("attach-input").setInputFiles(path);
      const tray = page.getByTestId("attachment-tray");
      await tray.getByRole("img", { name: "green.png" }).waitFor();
      const draft = "w".repeat(2_000);
      await send(page, draft);
      await page.getByTestId("action-error").waitFor();
      await page.waitForFunction((n) => (document.getElementById("composer-input") as HTMLTextAreaElement).value.length === n, draft.length);
      // The image is back in the tray, under its own name, once.
      await tray.getByRole("img", { name: "green.png" }).waitFor();
      expect(await tray.getByRole("img").count()).toBe(1);

      // Shortened, the message goes with the image, and the tray empties.
      await send(page, "What colour is this?");
      await waitForAnswerState(page, "stop");
      expect((await lastAnswer(page).textContent())?.toLowerCase()).toContain("green");
      expect(await page.getByTestId("attachment-tray").count()).toBe(0);
    } finally {
      await strict.close();
    }
  });

  it("keeps an attached image in view when a model without vision is picked, and sends nothing until it is removed", async () => {
    const path = join(dir, "blue.png");
    writeFileSync(path, solidPng(8, 8, [20, 40, 220]));
    const page = await e2e.openApp();
    await chooseModel(page, "demo-vision");
    await page.getByTestId("attach-input").setInputFiles(path);
    const image = page.getByTestId("attachment-tray").getByRole("img", { name: "blue.png" });
    await image.waitFor();
    await chooseModel(page, "demo");
    await send(page, "What colour is this image?");
    await page.getByTestId("vision-note").getByText("This model cannot see images", { exact: false }).waitFor();
    expect(await image.count(), "the image stays in view").toBe(1);
    expect(await page.locator('[data-testid="user-message"]').count(), "nothing was sent").toBe(0);

    // Removed, the message goes without it, and no image waits in the tray for a later message.
    await page.getByRole("button", { name: "Remove blue.png" }).click();
    await page.press("#composer-input", "Enter");
    await waitForAnswerState(page, "stop");
    await chooseModel(page, "demo-vision");
    expect(await page.getByTestId("attachment-tray").count()).toBe(0);
  });

  it("hands the focus on when an attached image is removed from the keyboard: to the next image's Remove, then the message box", async () => {
    const paths = ["one.png", "two.png"].map((name, i) => {
      const path = join(dir, name);
      writeFileSync(path, solidPng(8, 8, [40 + i * 100, 40, 40]));
      return path;
    });
    const page = await e2e.openApp();
    await chooseModel(page, "demo-vision");
    await page.getByTestId("attach-input").setInputFiles(paths);
    const tray = page.getByTestId("attachment-tray");
    await tray.getByRole("img", { name: "two.png" }).waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.id ?? null);
    // From the message box back into the tray by Tab, as a keyboard user gets there.
    await page.focus("#composer-input");
    for (let i = 0; i < 5 && (await focused()) !== "Remove one.png"; i++) await page.keyboard.press("Shift+Tab");
    expect(await focused()).toBe("Remove one.png");

    await page.keyboard.press("Enter");
    await tray.getByRole("img", { name: "one.png" }).waitFor({ state: "detached" });
    expect(await focused(), "the next image's Remove").toBe("Remove two.png");
    await page.keyboard.press("Enter");
    await tray.getByRole("img", { name: "two.png" }).waitFor({ state: "detached" });
    expect(await focused(), "the message box, not <body>").toBe("composer-input");
  });

  it("attaches an image to the vision model: thumbnail before sending, an answer about it, the thumbnail in the transcript opening full size, and the context meter", async () => {
    const png = solidPng(32, 24, [220, 30, 30]);
    const path = join(dir, "red.png");
    writeFileSync(path, png);
    const page = await e2e.openApp();
    // A model without vision takes text files, not images: the image is refused at once, in words.
    await chooseModel(page, "gemma3");
    await page.getByTestId("attach-input").setInputFiles(path);
    await page.getByTestId("attachment-problem").getByText("red.png is an image, and this model cannot see images.").waitFor();
    expect(await page.getByTestId("attachment-tray").getByRole("img").count()).toBe(0);
    await chooseModel(page, "demo-vision");
    await page.getByRole("button", { name: "Attach files" }).waitFor();

    await page.getByTestId("attach-input").setInputFiles(path);
    const draft = page.getByTestId("attachment-tray").getByRole("img", { name: "red.png" });
    await draft.waitFor();
    // Remove before sending, then attach again by dropping the file on the composer.
    await page.getByRole("button", { name: "Remove red.png" }).click();
    await draft.waitFor({ state: "detached" });
    await page.evaluate(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
      document.querySelector("form.composer")!.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    }, png.toString("base64"));
    await page.getByTestId("attachment-tray").getByRole("img", { name: "dropped.png" }).waitFor();

    await send(page, "What is in this picture?");
    await waitForAnswerState(page, "stop");
    const answer = (await lastAnswer(page).textContent()) ?? "";
    expect(answer).toContain("32×24");
    expect(answer.toLowerCase()).toContain("red");
    // The model got exactly the image's bytes.
    const body = e2e.sim.chatRequests().at(-1)?.body as { model: string; messages: Array<{ images?: string[] }> };
    expect(body.model).toBe("demo-vision");
    expect(body.messages.at(-1)?.images).toEqual([png.toString("base64")]);
    expect(await page.getByTestId("attachment-tray").count()).toBe(0);

    const thumb = page.getByTestId("messages").getByRole("button", { name: "Open image 1 full size" });
    await thumb.waitFor();
    expect(await thumb.locator("img").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(32);
    await thumb.click();
    const full = page.getByTestId("image-full");
    await full.waitFor();
    expect(await full.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([32, 24]);
    await page.keyboard.press("Escape");
    await full.waitFor({ state: "hidden" });

    // The context meter: last prompt + answer tokens of the model's 32K limit.
    const meter = page.getByRole("meter", { name: "Context used" });
    await meter.waitFor();
    expect(await meter.textContent()).toMatch(/^[\d.]+K? \/ 32K context$/);
    expect(Number(await meter.getAttribute("aria-valuenow"))).toBeGreaterThan(0);
  });

  it("offers think levels for gpt-oss and sends the chosen one; on/off for qwen3", async () => {
    const page = await e2e.openApp();
    await chooseModel(page, "gpt-oss");
    const level = page.getByRole("combobox", { name: /^Think/ });
    await level.selectOption("high");
    await send(page, "explain streams");
    await waitForAnswerState(page, "stop");
    expect((e2e.sim.chatRequests().at(-1)?.body as { think?: unknown }).think).toBe("high");
    await lastAnswer(page).getByText(/^Thought for \d+ s$/).waitFor();
    await chooseModel(page, "qwen3");
    expect(await page.getByRole("button", { name: /^Think/ }).getAttribute("aria-pressed")).toBe("true");
    expect(await page.getByRole("combobox", { name: /^Think/ }).count()).toBe(0);
  });
  it("keeps the note that the model answered without its tools after a reload", async () => {
    // An OpenAI-compatible server does not say what a model takes: gemma3 refuses the tools it is sent, and the run
    // answers without them (a status with unsupportedFeature). Served by the simulator that the main API runs.
    const openai = await startApi({ CHAT_PROVIDER: "openai", OPENAI_BASE_URL: `${e2e.sim.url}/v1`, CHAT_MODEL: "gemma3" }, 5);
    try {
      const page = await e2e.newPage(desktop, await openai.listen());
      await page.locator("#composer-input").waitFor();
      await send(page, "What is 12 * 7?");
      await waitForAnswerState(page, "stop");
      const note = '"gemma3" does not support tools: answering without them.';
      expect(await lastAnswer(page).getByTestId("answer-note").allTextContents()).toEqual([note]);

      await page.reload();
      await waitForAnswerState(page, "stop");
      await lastAnswer(page).getByTestId("answer-text").waitFor();
      expect(await lastAnswer(page).getByTestId("answer-note").allTextContents()).toEqual([note]);
    } finally {
      await openai.close();
    }
  });
});

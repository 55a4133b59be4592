import { maxInstructionsChars as apiLimit } from "@streamchat/api";
import { describe, expect, it } from "vitest";
import { maxInstructionsChars } from "../components/InstructionsPanel.js";
import { desktop, mobile, runBrowserTests, send, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E();

/** The system message of the last request the model was sent. */
const lastSystemMessage = () => {
  const body = e2e.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> };
  return body.messages.find((m) => m.role === "system")?.content ?? "";
};

describe.skipIf(!runBrowserTests)("custom instructions", () => {
  it("has the API's length limit", () => {
    expect(maxInstructionsChars).toBe(apiLimit);
  });

  it("are saved from the sidebar, go to the model with the next answer, and are there after a reload", async () => {
    const page = await e2e.openApp(desktop);
    await page.locator("#sidebar").getByText("Instructions", { exact: true }).click();
    const box = page.getByLabel("Custom instructions");
    await expect.poll(() => box.isEnabled()).toBe(true);
    await box.fill("Answer like a pirate.");
    await page.getByTestId("instructions-panel").getByRole("button", { name: "Save" }).click();
    await page.getByTestId("instructions-panel").getByRole("button", { name: "Saved" }).waitFor();

    await send(page, "hi");
    await waitForAnswerState(page, "stop");
    expect(lastSystemMessage()).toMatch(/\n\nAnswer like a pirate\.$/);

    await page.reload();
    await page.locator("#sidebar").getByText("Instructions", { exact: true }).click();
    await expect.poll(() => page.getByLabel("Custom instructions").inputValue()).toBe("Answer like a pirate.");

    // Cleared: the next answer goes without them.
    await page.getByLabel("Custom instructions").fill("");
    await page.getByTestId("instructions-panel").getByRole("button", { name: "Save" }).click();
    await page.getByTestId("instructions-panel").getByRole("button", { name: "Saved" }).waitFor();
    await send(page, "hello again");
    await waitForAnswerState(page, "stop");
    expect(lastSystemMessage()).not.toContain("pirate");
  });

  it("fit the phone's drawer: the box and its Save button within the screen", async () => {
    const page = await e2e.openApp(mobile);
    await page.getByRole("button", { name: "Show conversations" }).click();
    await page.locator("#sidebar").getByText("Instructions", { exact: true }).click();
    const box = page.getByLabel("Custom instructions");
    await box.waitFor();
    const save = page.getByTestId("instructions-panel").getByRole("button", { name: "Save" });
    for (const rect of [await box.boundingBox(), await save.boundingBox()]) {
      expect(rect!.x).toBeGreaterThanOrEqual(0);
      expect(rect!.x + rect!.width).toBeLessThanOrEqual(mobile.viewport.width);
    }
  });
});

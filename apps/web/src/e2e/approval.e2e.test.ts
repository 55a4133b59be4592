import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { everythingServer } from "@streamchat/mcp/test-support";
import { contrastOf, conversationIdOf, dark, desktop, lastAnswer, runBrowserTests, send, useE2E, waitForAnswerState } from "./harness.js";

// The approval card against the real API with a real MCP server (the reference server from npm over stdio) whose
// echo tool is configured to ask first. The demo model calls any offered tool it is asked to use.

const configDir = mkdtempSync(join(tmpdir(), "streamchat-web-mcp-"));
const mcpConfig = join(configDir, "mcp.json");
writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { every: { ...everythingServer(), requireApproval: ["echo"] } } }));
afterAll(() => rmSync(configDir, { recursive: true, force: true }));

const e2e = useE2E({ env: { MCP_CONFIG: mcpConfig }, tokenDelayMs: 5 });

const ask = (message: string) => `use the every__echo tool with {"message":"${message}"}`;

describe.skipIf(!runBrowserTests)("approval card", () => {
  it("shows the tool, its server and its arguments; Approve runs it, and the tool's result and the answer appear", async () => {
    await e2e.server.mcp!.ready();
    const page = await e2e.openApp();
    await send(page, ask("from the browser"));
    const card = lastAnswer(page).locator('[data-testid="approval-card"]');
    await card.waitFor();
    expect(await card.getAttribute("data-decision")).toBe("waiting");
    expect(await card.locator(".approval__tool").textContent()).toBe("every__echo");
    expect(await card.getByTestId("approval-source").textContent()).toContain("MCP server “every”");
    expect(JSON.parse((await card.getByTestId("approval-args").textContent()) ?? "")).toEqual({ message: "from the browser" });

    await card.getByRole("button", { name: "Approve" }).click();
    await waitForAnswerState(page, "stop");
    expect(await card.getAttribute("data-decision")).toBe("approved");
    const tool = lastAnswer(page).locator('[data-testid="tool-card"][data-tool="every__echo"]');
    expect(await tool.getAttribute("data-state")).toBe("ok");
    await tool.locator(".tool__toggle").click();
    expect(await tool.getByTestId("tool-result").textContent()).toContain("Echo: from the browser");
    expect((await lastAnswer(page).getByTestId("answer-text").textContent())?.length).toBeGreaterThan(0);
  });

  it("Deny: tool_denied is shown on the call and the answer continues", async () => {
    const page = await e2e.openApp();
    await send(page, ask("not this"));
    const card = lastAnswer(page).locator('[data-testid="approval-card"]');
    await card.getByRole("button", { name: "Deny" }).click();
    await waitForAnswerState(page, "stop");
    expect(await card.getAttribute("data-decision")).toBe("denied");
    const tool = lastAnswer(page).locator('[data-testid="tool-card"][data-tool="every__echo"]');
    expect(await tool.getAttribute("data-state")).toBe("error");
    expect(await tool.locator(".tool__failure").textContent()).toContain("The user denied the call to every__echo");
    expect(await lastAnswer(page).getByTestId("answer-text").textContent()).toContain("I did not use every__echo");
  });

  it("leaves the keyboard focus in the message box, not on the page's body, after Approve or Deny from the keyboard", async () => {
    for (const [decision, button] of [["approved", "Approve"], ["denied", "Deny"]] as const) {
      const page = await e2e.openApp();
      await send(page, ask(`keyboard ${decision}`));
      const card = lastAnswer(page).locator('[data-testid="approval-card"]');
      await card.getByRole("button", { name: button }).focus();
      await page.keyboard.press("Enter");
      await page.waitForFunction((d) => document.querySelector('[data-testid="approval-card"]')?.getAttribute("data-decision") === d, decision);
      expect(await page.evaluate(() => document.activeElement?.id), `after ${button}`).toBe("composer-input");
      await waitForAnswerState(page, "stop");
    }
  });

  it("keeps the card across a reload, and takes a decision made in another tab", async () => {
    const page = await e2e.openApp();
    await send(page, ask("after reload"));
    await lastAnswer(page).locator('[data-testid="approval-card"]').waitFor();
    const conversationId = await conversationIdOf(page);
    await page.reload();
    const card = lastAnswer(page).locator('[data-testid="approval-card"]');
    await card.getByRole("button", { name: "Approve" }).waitFor();

    // A second tab on the same conversation approves; the first sees the decision and the answer.
    const other = await e2e.newPage(undefined, `${e2e.baseUrl}/#/c/${encodeURIComponent(conversationId)}`);
    await other.goto(`${e2e.baseUrl}/#/c/${encodeURIComponent(conversationId)}`);
    await lastAnswer(other).locator('[data-testid="approval-card"]').getByRole("button", { name: "Approve" }).click();
    await waitForAnswerState(page, "stop");
    expect(await card.getAttribute("data-decision")).toBe("approved");
    expect(await lastAnswer(page).locator('[data-testid="tool-card"]').getAttribute("data-state")).toBe("ok");
  });

  it("says in words that the server could not be reached, and Try again sends the same decision", async () => {
    const page = await e2e.openApp();
    await send(page, ask("network down"));
    const card = lastAnswer(page).locator('[data-testid="approval-card"]');
    await card.getByRole("button", { name: "Approve" }).waitFor();
    // The decision never reaches the server (the network is down for it).
    await page.route("**/trpc/chat.approve**", (route) => route.abort("internetdisconnected"));
    await card.getByRole("button", { name: "Approve" }).click();
    expect(await card.getByRole("alert").textContent()).toBe("Could not reach the server — try again.");
    expect(await card.getAttribute("data-decision")).toBe("waiting");
    await page.unroute("**/trpc/chat.approve**");
    await card.getByRole("button", { name: "Try again" }).click();
    await waitForAnswerState(page, "stop");
    expect(await card.getAttribute("data-decision")).toBe("approved");
    expect(await card.getByRole("alert").count()).toBe(0);
  });

  it("says a call decided in another tab meanwhile was already decided, and which way, not the server's sentence", async () => {
    const page = await e2e.openApp();
    await send(page, ask("decided elsewhere"));
    const card = lastAnswer(page).locator('[data-testid="approval-card"]');
    await card.getByRole("button", { name: "Approve" }).waitFor();
    const conversationId = await conversationIdOf(page);
    // This tab's Approve is held on its way until another tab has denied the call: the server answers CONFLICT.
    let release: () => void = () => {};
    const denied = new Promise<void>((resolve) => (release = resolve));
    await page.route("**/trpc/chat.approve**", async (route) => {
      await denied;
      await route.continue();
    });
    await card.getByRole("button", { name: "Approve" }).click();
    const other = await e2e.newPage();
    await other.goto(`${e2e.baseUrl}/#/c/${encodeURIComponent(conversationId)}`);
    await lastAnswer(other).locator('[data-testid="approval-card"]').getByRole("button", { name: "Deny" }).click();
    await lastAnswer(other).locator('[data-testid="approval-card"][data-decision="denied"]').waitFor();
    release();
    const alert = card.getByRole("alert");
    await alert.waitFor();
    // The server's CONFLICT says which decision won (error.data.conflict), and the card says it in words.
    expect(await alert.textContent()).toBe("Already denied elsewhere (another tab, device or the CLI).");
    await waitForAnswerState(page, "stop");
    expect(await card.getAttribute("data-decision")).toBe("denied");
    expect(await card.getByRole("button", { name: "Try again" }).count()).toBe(0);
  });

  it("lists tools and servers in the tools panel, and turns a server off for this user", async () => {
    const page = await e2e.openApp();
    const panel = page.getByTestId("tools-panel");
    await panel.locator("summary").click();
    const server = panel.locator('[data-testid="tools-server"][data-server="every"]');
    await server.waitFor();
    expect(await server.getAttribute("data-state")).toBe("connected");
    const echo = panel.locator('[data-testid="tools-tool"][data-tool="every__echo"]');
    expect(await echo.textContent()).toContain("asks first");
    expect(await echo.textContent()).toContain("MCP server “every”");
    expect(await panel.locator('[data-testid="tools-tool"][data-tool="calculator"]').textContent()).toContain("built-in tool");

    const toggle = server.getByRole("switch");
    expect(await toggle.isChecked()).toBe(true);
    await toggle.click();
    await page.waitForFunction(() => document.querySelector('[data-tool="every__echo"]')?.getAttribute("data-offered") === "false");
    expect(await echo.textContent()).toContain("not offered: turned off");
    // The switch is stored on the server: the model is no longer offered the tool.
    await send(page, ask("while off"));
    await waitForAnswerState(page, "stop");
    expect(await lastAnswer(page).locator('[data-testid="approval-card"]').count()).toBe(0);
    await toggle.click();
    await page.waitForFunction(() => document.querySelector('[data-tool="every__echo"]')?.getAttribute("data-offered") === "true");
  });

  it("keeps the tools panel's server state and the sidebar's placeholders legible in both themes (4.5:1)", async () => {
    for (const look of [desktop, dark]) {
      const page = await e2e.openApp(look);
      const panel = page.getByTestId("tools-panel");
      await panel.locator("summary").click();
      const state = panel.locator('[data-testid="tools-server"][data-server="every"] .tools-panel__state--connected');
      await state.waitFor();
      expect(await contrastOf(state), `"connected" state (${look.name})`).toBeGreaterThanOrEqual(4.5);
      await page.locator("summary", { hasText: "API token" }).click();
      for (const field of [page.getByRole("searchbox"), page.locator("#api-token"), page.locator("#composer-input")]) {
        expect(await contrastOf(field, "::placeholder"), `placeholder of ${await field.getAttribute("placeholder")} (${look.name})`).toBeGreaterThanOrEqual(4.5);
      }
    }
  });
});

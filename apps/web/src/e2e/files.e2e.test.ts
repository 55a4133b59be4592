import { defaultMaxFileChars, formatFileSize } from "@streamchat/core/browser";
import { describe, expect, it } from "vitest";
import { box, composerShows, conversationIdOf, desktop, mobile, runBrowserTests, send, startApi, submitComposer, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E({ tokenDelayMs: 5 });

const notes = "# Release notes\n\n- Faster streaming\n- Text files on messages\n";
const notesLabel = `notes.md, 4 lines, ${notes.length} bytes`;
const longName = "a-file-name-far-longer-than-any-chip-has-room-for-in-the-composer-or-the-transcript.csv";
const csv = "name,score\nada,3\n";

/** The element that has the focus, by its accessible label (or id). */
const focused = (page: import("playwright-core").Page) =>
  page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.id ?? null);

describe.skipIf(!runBrowserTests)("text files on messages", () => {
  it("attaches text files through the picker, sends them to the model, shows them as chips that open the text, after a reload too", async () => {
    const page = await e2e.openApp();
    await page.getByTestId("attach-input").setInputFiles([
      { name: "notes.md", mimeType: "text/markdown", buffer: Buffer.from(notes) },
      { name: longName, mimeType: "text/csv", buffer: Buffer.from(csv) },
    ]);
    const tray = page.getByTestId("attachment-tray");
    const draft = tray.getByRole("figure", { name: notesLabel });
    await draft.waitFor();
    expect(await draft.locator(".file-chip__facts").textContent()).toBe(`4 lines · ${notes.length} bytes`);
    // A long name is cut with an ellipsis, whole in the chip's title.
    const long = tray.getByRole("figure", { name: `${longName}, 2 lines, ${csv.length} bytes` });
    expect(await long.getAttribute("title")).toBe(longName);
    const cut = await long.locator(".file-chip__name").evaluate((el) => ({ overflow: el.scrollWidth > el.clientWidth, ellipsis: getComputedStyle(el).textOverflow }));
    expect(cut).toEqual({ overflow: true, ellipsis: "ellipsis" });
    // No vision note: every model reads files.
    expect(await page.getByRole("alert").count()).toBe(0);

    await send(page, "What changed in this release?");
    await waitForAnswerState(page, "stop");
    expect(await page.getByTestId("attachment-tray").count(), "the tray empties once sent").toBe(0);
    // The model read each file before the question, as <file> blocks.
    const body = e2e.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(body.messages.at(-1)).toMatchObject({
      role: "user",
      content: `<file name="notes.md">\n${notes}</file>\n\n<file name="${longName}">\n${csv}</file>\n\nWhat changed in this release?`,
    });

    const chip = page.getByTestId("messages").getByRole("button", { name: notesLabel });
    await chip.waitFor();
    const openText = async (p = page) => {
      await p.getByTestId("messages").getByRole("button", { name: notesLabel }).click();
      const dialog = p.getByRole("dialog", { name: "notes.md" });
      await dialog.waitFor();
      expect(await dialog.getByTestId("file-text").textContent()).toBe(notes);
      return dialog;
    };
    const dialog = await openText();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await focused(page), "Escape gives the focus back to the chip").toBe(notesLabel);

    // Stored with the message: a reload shows the chips, and the text opens again.
    const conversationId = await conversationIdOf(page);
    await page.reload();
    await page.getByTestId("messages").getByRole("button", { name: notesLabel }).waitFor();
    expect(await page.getByTestId("messages").getByRole("button", { name: /^a-file-name-far-longer/ }).count()).toBe(1);
    const again = await openText();
    await again.getByRole("button", { name: "Close" }).click();
    await again.waitFor({ state: "hidden" });

    // On a phone the chip stays inside the screen, and the dialog fits it.
    const phone = await e2e.newPage(mobile);
    await phone.goto(`${e2e.baseUrl}/#/c/${encodeURIComponent(conversationId)}`);
    const phoneChip = phone.getByTestId("messages").getByRole("button", { name: /^a-file-name-far-longer/ });
    await phoneChip.waitFor();
    const chipBox = await box(phoneChip);
    expect(chipBox.x).toBeGreaterThanOrEqual(0);
    expect(chipBox.x + chipBox.width).toBeLessThanOrEqual(mobile.viewport.width);
    const phoneDialog = await openText(phone);
    const dialogBox = await box(phoneDialog);
    expect(dialogBox.x).toBeGreaterThanOrEqual(0);
    expect(dialogBox.x + dialogBox.width).toBeLessThanOrEqual(mobile.viewport.width);
    expect(dialogBox.y + dialogBox.height).toBeLessThanOrEqual(mobile.viewport.height);
  });

  it("takes files dropped anywhere on the chat, not only on the composer, and says where they go while they are dragged", async () => {
    const page = await e2e.openApp();
    const pane = page.getByRole("main", { name: "Chat" });
    const drag = (type: string, target: string) =>
      page.evaluate(
        ([type, target]) => {
          const data = new DataTransfer();
          data.items.add(new File(["a,b\n1,2\n"], "dropped.csv", { type: "text/csv" }));
          const event = new DragEvent(type!, { bubbles: true, cancelable: true, dataTransfer: data });
          document.querySelector(target!)!.dispatchEvent(event);
          return event.defaultPrevented;
        },
        [type, target],
      );
    // Over the empty transcript (the suggestions): the pane takes it, and shows so.
    const target = ".chat__header";
    expect(await drag("dragenter", target)).toBe(false);
    expect(await drag("dragover", target), "dragover accepted: the browser will not open the file instead").toBe(true);
    expect(await pane.getAttribute("data-dropping")).not.toBeNull();
    expect(await page.evaluate(() => getComputedStyle(document.querySelector(".chat")!, "::after").content)).toBe('"Drop files to attach them"');
    expect(await drag("drop", target), "the drop is the app's: the browser does not navigate to the file").toBe(true);
    await page.getByTestId("attachment-tray").getByRole("figure", { name: /^dropped\.csv, 2 lines/ }).waitFor();
    expect(await pane.getAttribute("data-dropping")).toBeNull();
    // On the composer itself: taken once, not twice (the composer's handler and the pane's).
    await drag("drop", "form.composer");
    await page.getByTestId("attachment-tray").getByRole("figure").nth(1).waitFor();
    await page.waitForTimeout(100);
    expect(await page.getByTestId("attachment-tray").getByRole("figure").count()).toBe(2);
  });

  it("gives a refused message's files back to the composer with its text; they go with the next send", async () => {
    // A server with a lower message limit than the page assumes: the refusal comes from the server, after the tray emptied.
    const strict = await startApi({ MAX_MESSAGE_CHARS: "1000" }, 5);
    try {
      const page = await e2e.newPage(desktop, await strict.listen());
      await page.getByTestId("attach-input").setInputFiles({ name: "notes.md", mimeType: "text/markdown", buffer: Buffer.from(notes) });
      const tray = page.getByTestId("attachment-tray");
      await tray.getByRole("figure", { name: notesLabel }).waitFor();
      const draft = "w".repeat(2_000);
      await send(page, draft);
      await page.getByTestId("action-error").waitFor();
      await page.waitForFunction((n) => (document.getElementById("composer-input") as HTMLTextAreaElement).value.length === n, draft.length);
      // Back in the tray, once.
      await tray.getByRole("figure", { name: notesLabel }).waitFor();
      expect(await tray.getByRole("figure").count()).toBe(1);

      await send(page, "What changed?");
      await waitForAnswerState(page, "stop");
      expect(await page.getByTestId("attachment-tray").count()).toBe(0);
      await page.getByTestId("messages").getByRole("button", { name: notesLabel }).waitFor();
      const body = strict.sim!.chatRequests().at(-1)?.body as { messages: Array<{ content: string }> };
      expect(body.messages.at(-1)?.content).toBe(`<file name="notes.md">\n${notes}</file>\n\nWhat changed?`);
    } finally {
      await strict.close();
    }
  });

  it("refuses a binary file, a file too long to send and a ninth file, each in a sentence, before anything is sent", async () => {
    const asked = e2e.sim.chatRequests().length;
    const page = await e2e.openApp();
    const input = page.getByTestId("attach-input");
    const problem = page.getByTestId("attachment-problem");

    // A PDF: its header is text, its body bytes are no UTF-8.
    const pdf = Buffer.concat([Buffer.from("%PDF-1.7\n%"), Buffer.from([0xe2, 0xe3, 0xcf, 0xd3, 0x0a]), Buffer.from("1 0 obj\n")]);
    await input.setInputFiles({ name: "report.pdf", mimeType: "application/pdf", buffer: pdf });
    await problem.getByText("report.pdf is not a text file.", { exact: true }).waitFor();
    expect(await page.getByTestId("attachment-tray").getByRole("figure").count()).toBe(0);

    // Longer than the server's limit by its size alone (3 bytes a character at most): refused without being read.
    const bigBytes = defaultMaxFileChars * 3 + 4;
    await input.setInputFiles({ name: "big.log", mimeType: "text/plain", buffer: Buffer.alloc(bigBytes, "x") });
    await problem
      .getByText(`big.log is too long (${formatFileSize(bigBytes)}): a file may have at most ${defaultMaxFileChars.toLocaleString("en-US")} characters.`, { exact: true })
      .waitFor();

    // Nine files at once: eight are taken.
    const nine = Array.from({ length: 9 }, (_, i) => ({ name: `part-${i + 1}.txt`, mimeType: "text/plain", buffer: Buffer.from(`part ${i + 1}\n`) }));
    await input.setInputFiles(nine);
    await problem.getByText("At most 8 files per message.", { exact: true }).waitFor();
    expect(await page.getByTestId("attachment-tray").getByRole("figure").count()).toBe(8);

    // Removed from the keyboard, the focus goes on to the next file's Remove. Reached by Tab, as a keyboard user does.
    await page.focus("#composer-input");
    for (let i = 0; i < 12 && (await focused(page)) !== "Remove part-1.txt"; i++) await page.keyboard.press("Shift+Tab");
    expect(await focused(page)).toBe("Remove part-1.txt");
    await page.keyboard.press("Enter");
    await page.getByRole("figure", { name: /^part-1\.txt/ }).waitFor({ state: "detached" });
    expect(await focused(page)).toBe("Remove part-2.txt");
    expect(e2e.sim.chatRequests(), "nothing reached the model").toHaveLength(asked);
  });

  it("keeps unsent text files with the draft across a reload, and forgets them once the message is sent", async () => {
    const page = await e2e.openApp();
    await page.getByTestId("attach-input").setInputFiles({ name: "notes.md", mimeType: "text/markdown", buffer: Buffer.from(notes) });
    const tray = page.getByTestId("attachment-tray");
    await tray.getByRole("figure", { name: notesLabel }).waitFor();
    await page.fill("#composer-input", "Summarise the notes");
    // Kept as they change: both are in storage before the page goes.
    await page.waitForFunction(() => localStorage.getItem("streamchat.draft.new") !== null && localStorage.getItem("streamchat.draftFiles.new") !== null);

    await page.reload();
    await composerShows(page, "Summarise the notes");
    await tray.getByRole("figure", { name: notesLabel }).waitFor();
    expect(await tray.getByRole("figure").count()).toBe(1);
    expect(await page.getByTestId("attachment-problem").count()).toBe(0);

    await submitComposer(page);
    await waitForAnswerState(page, "stop");
    const body = e2e.sim.chatRequests().at(-1)?.body as { messages: Array<{ content: string }> };
    expect(body.messages.at(-1)?.content).toBe(`<file name="notes.md">\n${notes}</file>\n\nSummarise the notes`);
    expect(await page.getByTestId("attachment-tray").count()).toBe(0);

    await page.reload();
    await page.getByTestId("messages").getByRole("button", { name: notesLabel }).waitFor();
    await composerShows(page, "");
    expect(await page.getByTestId("attachment-tray").count(), "nothing back in the tray once sent").toBe(0);
    expect(await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith("streamchat.draft")))).toEqual([]);
  });

  it("says quietly when attached files are longer than the model reads at once, and still sends them", async () => {
    // The server fills at most 4096 tokens of the demo model's window, 1024 of them kept for the answer, and a few
    // hundred more go to the server's prompt and the demo's tools in every request (models.room).
    const small = await startApi({ MAX_CONTEXT_TOKENS: "4096" }, 5);
    try {
      const page = await e2e.newPage(desktop, await small.listen());
      const input = page.getByTestId("attach-input");
      const tray = page.getByTestId("attachment-tray");
      const note = page.getByTestId("context-fit-note");
      // 16,000 characters of CSV: about 4,000 tokens.
      const budget = "month,amount\n".repeat(1_231).slice(0, 16_000);
      // Pasted as text first, with nothing attached yet: measured against the same room (the server's prompt and tools
      // counted, models.room), not the window less the answer's reserve alone (which would say 3K).
      await page.fill("#composer-input", budget);
      await note.getByText(/^This message is about 4K tokens; this model has room for about 2\.\dK here, so it will see only part of it\.$/).waitFor();
      await page.fill("#composer-input", "");
      await expect.poll(() => note.textContent()).toBe("");
      await input.setInputFiles({ name: "budget.csv", mimeType: "text/csv", buffer: Buffer.from(budget) });
      await tray.getByRole("figure", { name: /^budget\.csv/ }).waitFor();
      await note.getByText(/^budget\.csv is about 4K tokens; this model has room for about 2\.\dK here, so it will see only part of it\.$/).waitFor();
      expect(await note.getAttribute("role")).toBe("status");
      expect(await page.getByRole("alert").count(), "a note, not an alert").toBe(0);
      // Under the tray, above the text box.
      const [trayBox, noteBox, inputBox] = [await box(tray), await box(note), await box(page.locator("#composer-input"))];
      expect(noteBox.y).toBeGreaterThanOrEqual(trayBox.y + trayBox.height - 1);
      expect(noteBox.y + noteBox.height).toBeLessThanOrEqual(inputBox.y + 1);

      // A short file fits: no note.
      await page.getByRole("button", { name: "Remove budget.csv" }).click();
      await input.setInputFiles({ name: "notes.md", mimeType: "text/markdown", buffer: Buffer.from(notes) });
      await tray.getByRole("figure", { name: notesLabel }).waitFor();
      expect(await note.textContent()).toBe("");
      expect(await note.boundingBox().then((b) => b?.height ?? 0), "takes no room while empty").toBe(0);

      // Both: too long together, and still sent.
      await input.setInputFiles({ name: "budget.csv", mimeType: "text/csv", buffer: Buffer.from(budget) });
      await note.getByText(/^These files are about 4K tokens; this model has room for about 2\.\dK here, so it will see only part of them\.$/).waitFor();
      const sendButton = page.getByRole("button", { name: "Send" });
      await page.fill("#composer-input", "What is the total?");
      expect(await sendButton.isEnabled()).toBe(true);
      await submitComposer(page);
      await waitForAnswerState(page, "stop");
      expect(await page.getByTestId("attachment-tray").count()).toBe(0);
      expect(await note.textContent()).toBe("");
      const body = small.sim!.chatRequests().at(-1)?.body as { messages: Array<{ content: string }> };
      expect(body.messages.at(-1)?.content).toContain(`<file name="budget.csv">\n${budget}`);
    } finally {
      await small.close();
    }
  });
});

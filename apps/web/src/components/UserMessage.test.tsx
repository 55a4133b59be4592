// @vitest-environment jsdom
import { act, cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { touchKeyboardQuery } from "../lib/touchKeyboard.js";
import { UserMessage } from "./UserMessage.js";
import { modalDialogsInJsdom } from "../test-support/dialogs.js";

afterEach(cleanup);

function editing(onEdit: (text: string) => void) {
  const view = render(<UserMessage text="original question" onEdit={onEdit} />);
  fireEvent.click(view.getByRole("button", { name: "Edit" }));
  const box = () => view.container.querySelector<HTMLTextAreaElement>("#edit-message");
  fireEvent.change(box()!, { target: { value: "reworded にほんご" } });
  return { view, box };
}

describe("UserMessage editor keys", () => {
  it("keeps the editor and its text on the Escape and Enter of an IME composition", () => {
    const edits: string[] = [];
    const { box } = editing((text) => edits.push(text));
    const imeKeys = [
      { key: "Escape", isComposing: true }, // drops the IME's candidates
      { key: "Enter", isComposing: true }, // picks a candidate
      { key: "Enter", keyCode: 229 }, // Safari: the Enter that ends the composition
    ];
    for (const key of imeKeys) {
      fireEvent.keyDown(box()!, key);
      expect(box()?.value, `after ${JSON.stringify(key)}`).toBe("reworded にほんご");
    }
    expect(edits).toEqual([]);
  });

  it("saves on Enter and cancels on Escape otherwise", () => {
    const edits: string[] = [];
    const first = editing((text) => edits.push(text));
    fireEvent.keyDown(first.box()!, { key: "Enter" });
    expect(first.box()).toBeNull();
    expect(edits).toEqual(["reworded にほんご"]);
    cleanup();
    const second = editing((text) => edits.push(text));
    fireEvent.keyDown(second.box()!, { key: "Escape" });
    expect(second.box()).toBeNull();
    expect(edits).toEqual(["reworded にほんご"]);
  });
});

describe("UserMessage focus", () => {
  it("gives focus back to Edit when the editor closes with Escape or Cancel", () => {
    const { view, box } = editing(() => {});
    fireEvent.keyDown(box()!, { key: "Escape" });
    expect(document.activeElement).toBe(view.getByRole("button", { name: "Edit" }));

    fireEvent.click(view.getByRole("button", { name: "Edit" }));
    fireEvent.click(view.getByRole("button", { name: "Cancel" }));
    expect(document.activeElement).toBe(view.getByRole("button", { name: "Edit" }));
  });
});

describe("UserMessage editor on a touch keyboard", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("leaves Enter to the box (a new line: a touch keyboard has no Shift+Enter); Ctrl+Enter and Save & send save", () => {
    vi.stubGlobal("matchMedia", (query: string) => ({ matches: query === touchKeyboardQuery, media: query, addEventListener: () => {}, removeEventListener: () => {} }));
    const edits: string[] = [];
    const { box } = editing((text) => edits.push(text));
    // Not prevented: the browser puts the new line in, and the editor stays open.
    expect(fireEvent.keyDown(box()!, { key: "Enter" })).toBe(true);
    expect(box()).not.toBeNull();
    expect(edits).toEqual([]);
    fireEvent.keyDown(box()!, { key: "Enter", ctrlKey: true });
    expect(edits).toEqual(["reworded にほんご"]);
    cleanup();
    const again = editing((text) => edits.push(text));
    fireEvent.click(again.view.getByRole("button", { name: "Save & send" }));
    expect(edits).toEqual(["reworded にほんご", "reworded にほんご"]);
  });
});

describe("UserMessage files", () => {
  modalDialogsInJsdom();
  afterEach(() => vi.unstubAllGlobals());

  const text = "# Notes\n\n- first\n- second\n";
  const attachments = [
    { type: "image" as const, mimeType: "image/png" as const, data: "iVBORw0KGgo=" },
    { type: "file" as const, name: "notes.md", chars: text.length, text },
    { type: "file" as const, name: "a-name-much-longer-than-the-chip-has-room-for.config.json", chars: 2, text: "{}" },
  ];

  it("shows each file as a chip named by the file, its lines and size, beside the images", () => {
    const view = render(<UserMessage text="Summarise these" attachments={attachments} />);
    const chip = view.getByRole("button", { name: "notes.md, 4 lines, 26 bytes" });
    expect(chip.getAttribute("title")).toBe("notes.md");
    expect(chip.getAttribute("aria-haspopup")).toBe("dialog");
    expect(chip.textContent).toBe("notes.md4 lines · 26 bytes");
    expect(view.getByRole("button", { name: "a-name-much-longer-than-the-chip-has-room-for.config.json, 1 line, 2 bytes" })).toBeTruthy();
    expect(view.getByRole("button", { name: "Open image 1 full size" })).toBeTruthy();
    // Files above the text, like images.
    const column = view.container.querySelector(".message__column")!;
    expect([...column.children].map((c) => c.className)).toEqual(["message-images", "message-files", "message__bubble"]);
  });

  it("opens a file's text in a dialog labelled by its name, copies it, and gives the focus back to the chip on Close", async () => {
    const writes: string[] = [];
    vi.stubGlobal("navigator", { clipboard: { writeText: async (t: string) => void writes.push(t) } });
    const view = render(<UserMessage text="Summarise these" attachments={attachments} />);
    const chip = view.getByRole("button", { name: "notes.md, 4 lines, 26 bytes" });
    expect(view.queryByRole("dialog")).toBeNull();
    chip.focus();
    fireEvent.click(chip);
    const dialog = view.getByRole("dialog", { name: "notes.md" });
    expect(dialog.querySelector("h2")?.id).toBe(dialog.getAttribute("aria-labelledby"));
    expect(view.getByTestId("file-text").textContent).toBe(text);
    expect(dialog.textContent).toContain("4 lines · 26 bytes");

    fireEvent.click(view.getByRole("button", { name: "Copy" }));
    await view.findByRole("button", { name: "Copied" });
    expect(writes).toEqual([text]);
    expect(view.getByRole("status").textContent).toBe("File copied");

    view.getByRole("button", { name: "Close" }).focus();
    fireEvent.click(view.getByRole("button", { name: "Close" }));
    expect(view.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(chip);

    // The other file opens its own text.
    fireEvent.click(view.getByRole("button", { name: /^a-name-much-longer/ }));
    expect(view.getByTestId("file-text").textContent).toBe("{}");
    act(() => (view.getByTestId("file-dialog") as HTMLDialogElement).close()); // Escape, as the browser closes it
    expect(document.activeElement).toBe(view.getByRole("button", { name: /^a-name-much-longer/ }));
  });

  it("keeps the files in view while the question is edited (the edit keeps them)", () => {
    const view = render(<UserMessage text="Summarise these" onEdit={() => {}} attachments={attachments} />);
    fireEvent.click(view.getByRole("button", { name: "Edit" }));
    expect(view.container.querySelector("#edit-message")).not.toBeNull();
    expect(view.getByRole("button", { name: "notes.md, 4 lines, 26 bytes" })).toBeTruthy();
  });

  it("shows a stored file asked for without its text by its length, and offers nothing to open", () => {
    const view = render(<UserMessage text="q" attachments={[{ type: "file", name: "big.log", chars: 50_000 }]} />);
    expect(view.getByRole("button", { name: "big.log, 50,000 characters" }).hasAttribute("disabled")).toBe(true);
  });
});

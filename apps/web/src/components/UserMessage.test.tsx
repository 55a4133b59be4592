// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { touchKeyboardQuery } from "../lib/touchKeyboard.js";
import { UserMessage } from "./UserMessage.js";

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

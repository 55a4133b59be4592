// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { trpcWrapper } from "../test-support/trpc.js";
import { ConversationList } from "./ConversationList.js";

afterEach(cleanup);

async function renaming() {
  const renames: unknown[] = [];
  const list = [{ id: "c1", title: "Old title", createdAt: Date.now(), updatedAt: Date.now(), activeRunId: null }];
  const wrapper = trpcWrapper((path, input) => {
    if (path === "conversations.rename") renames.push(input);
    return path === "conversations.list" ? list : null;
  });
  const view = render(<ConversationList currentId={null} query="" onOpen={() => {}} onDeleted={() => {}} />, { wrapper });
  fireEvent.click(await view.findByRole("button", { name: "Rename Old title" }));
  const input = () => screen.queryByRole<HTMLInputElement>("textbox", { name: "Conversation title" });
  fireEvent.change(input()!, { target: { value: "にほんご" } });
  return { input, renames };
}

describe("ConversationList rename keys", () => {
  it("neither saves nor cancels on the Enter and Escape of an IME composition", async () => {
    const { input, renames } = await renaming();
    const imeKeys = [
      { key: "Enter", isComposing: true }, // picks a candidate
      { key: "Escape", isComposing: true }, // drops the candidates
      { key: "Enter", keyCode: 229 }, // Safari: the Enter that ends the composition
    ];
    for (const key of imeKeys) {
      fireEvent.keyDown(input()!, key);
      await act(async () => {});
      expect(input()?.value, `after ${JSON.stringify(key)}`).toBe("にほんご");
    }
    expect(renames).toEqual([]);
  });

  it("saves on Enter otherwise", async () => {
    const { input, renames } = await renaming();
    fireEvent.keyDown(input()!, { key: "Enter" });
    await act(async () => {});
    expect(input()).toBeNull();
    expect(renames).toEqual([{ conversationId: "c1", title: "にほんご" }]);
  });
});

describe("ConversationList rename focus", () => {
  it("gives focus back to the Rename button when the rename ends with Enter or Escape", async () => {
    const { input } = await renaming();
    fireEvent.keyDown(input()!, { key: "Enter" });
    await act(async () => {});
    expect(document.activeElement).toBe(screen.getByRole("button", { name: /^Rename / }));

    fireEvent.click(screen.getByRole("button", { name: /^Rename / }));
    fireEvent.keyDown(input()!, { key: "Escape" });
    await act(async () => {});
    expect(document.activeElement).toBe(screen.getByRole("button", { name: /^Rename / }));
  });
});

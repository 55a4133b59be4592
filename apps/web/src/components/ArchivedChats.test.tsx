// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { trpcWrapper } from "../test-support/trpc.js";
import { ArchivedChats, archivedPage, mostArchivedShown } from "./ArchivedChats.js";

afterEach(cleanup);

/** `count` archived chats, newest first, listed as conversations.list({ archived: true, limit }) lists them. */
function archivedServer(count: number) {
  const asked: number[] = [];
  const chats = Array.from({ length: count }, (_, i) => ({
    id: `a${i}`,
    title: `Archived ${i}`,
    createdAt: 0,
    updatedAt: count - i,
    pinnedAt: null,
    archivedAt: 1,
    activeRunId: null,
  }));
  const wrapper = trpcWrapper((path, input) => {
    if (path !== "conversations.list") return null;
    const { archived, limit } = input as { archived?: boolean; limit: number };
    if (archived !== true) throw new Error("only the archived list is asked for");
    asked.push(limit);
    return chats.slice(0, limit);
  });
  return { wrapper, asked };
}

const titles = (view: ReturnType<typeof render>) => view.getAllByRole("button", { name: /^Archived \d+$/ }).length;

describe("ArchivedChats", () => {
  it("lists the newest page, then a longer one on Show more, until a page is not full", async () => {
    const { wrapper, asked } = archivedServer(archivedPage + 30);
    const view = render(<ArchivedChats open onOpen={() => {}} />, { wrapper });
    await view.findByRole("button", { name: "Archived 0" });
    expect(titles(view)).toBe(archivedPage);
    fireEvent.click(view.getByRole("button", { name: "Show more" }));
    await view.findByRole("button", { name: `Archived ${archivedPage + 29}` });
    expect(titles(view)).toBe(archivedPage + 30);
    // All of them: no button, no note.
    expect(view.queryByRole("button", { name: "Show more" })).toBeNull();
    expect(view.queryByText(/search finds the others/)).toBeNull();
    expect(asked).toEqual([archivedPage, 2 * archivedPage]);
  });

  it("stops at the largest page and says that search finds the others", async () => {
    const { wrapper, asked } = archivedServer(mostArchivedShown + 5);
    const view = render(<ArchivedChats open onOpen={() => {}} />, { wrapper });
    await view.findByRole("button", { name: "Archived 0" });
    for (let shown = archivedPage; shown < mostArchivedShown; shown += archivedPage) {
      fireEvent.click(view.getByRole("button", { name: "Show more" }));
      await view.findByRole("button", { name: `Archived ${shown + archivedPage - 1}` });
    }
    expect(titles(view)).toBe(mostArchivedShown);
    expect(view.queryByRole("button", { name: "Show more" })).toBeNull();
    expect(view.getByText(`The newest ${mostArchivedShown} are listed; search finds the others by their messages.`)).toBeTruthy();
    expect(asked.at(-1)).toBe(mostArchivedShown);
  });

  it("says there are none, with no button", async () => {
    const { wrapper } = archivedServer(0);
    const view = render(<ArchivedChats open onOpen={() => {}} />, { wrapper });
    await view.findByText(/^None\./);
    expect(view.queryByRole("button", { name: "Show more" })).toBeNull();
  });
});

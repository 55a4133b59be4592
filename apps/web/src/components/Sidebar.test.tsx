// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { createRef } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { trpcWrapper } from "../test-support/trpc.js";
import { Sidebar } from "./Sidebar.js";

afterEach(cleanup);

describe("Sidebar search keys", () => {
  it("keeps the query on the Escape of an IME composition, and clears it on Escape otherwise", () => {
    const wrapper = trpcWrapper((path) => (path === "conversations.list" || path === "conversations.search" ? [] : null));
    render(
      <Sidebar
        open={false}
        currentId={null}
        onOpen={() => {}}
        onNewChat={() => {}}
        onDeleted={() => {}}
        onClose={() => {}}
        onTokenChange={() => {}}
        unauthorized={false}
        searchRef={createRef()}
      />,
      { wrapper },
    );
    const search = screen.getByRole<HTMLInputElement>("searchbox", { name: "Search conversations" });
    fireEvent.change(search, { target: { value: "東京 にほ" } });
    fireEvent.keyDown(search, { key: "Escape", isComposing: true });
    fireEvent.keyDown(search, { key: "Escape", keyCode: 229 });
    expect(search.value).toBe("東京 にほ");
    fireEvent.keyDown(search, { key: "Escape" });
    expect(search.value).toBe("");
  });
});

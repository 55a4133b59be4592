// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { VersionNav } from "./VersionNav.js";

afterEach(cleanup);

describe("VersionNav", () => {
  const versions = { index: 2, count: 3, siblingIds: [10, 20, 30] };

  it("names the version for screen readers and switches to the neighbouring sibling", () => {
    const switched: number[] = [];
    const { getByRole, getByTestId } = render(<VersionNav versions={versions} of="answer" disabled={false} onSwitch={(id) => switched.push(id)} />);
    expect(getByRole("group", { name: "Versions of this answer" })).toBeTruthy();
    const count = getByTestId("version-count");
    // Seen: "2 / 3"; read: the words, as text (an aria-label on a span is not read by every screen reader).
    const seen = [...count.querySelectorAll("[aria-hidden=true]")].map((e) => e.textContent).join("");
    const read = [...count.querySelectorAll(".visually-hidden")].map((e) => e.textContent).join("");
    expect(seen).toBe("2 / 3");
    expect(read).toBe("Version 2 of 3");
    expect(count.hasAttribute("aria-label")).toBe(false);
    fireEvent.click(getByRole("button", { name: "Previous version of this answer" }));
    fireEvent.click(getByRole("button", { name: "Next version of this answer" }));
    expect(switched).toEqual([10, 30]);
  });

  it("disables the way past either end, and both ways while switching is not possible", () => {
    const first = render(<VersionNav versions={{ ...versions, index: 1 }} of="message" disabled={false} onSwitch={() => {}} />);
    expect(first.getByRole("button", { name: "Previous version of this message" }).getAttribute("aria-disabled")).toBe("true");
    expect(first.getByRole("button", { name: "Next version of this message" }).getAttribute("aria-disabled")).toBe("false");
    cleanup();
    const switched: number[] = [];
    const busy = render(<VersionNav versions={versions} of="message" disabled onSwitch={(id) => switched.push(id)} />);
    for (const button of busy.getAllByRole("button")) {
      // Still focusable (the keyboard focus stays where it was), but it does nothing.
      expect(button.getAttribute("aria-disabled")).toBe("true");
      expect((button as HTMLButtonElement).disabled).toBe(false);
      fireEvent.click(button);
    }
    expect(switched).toEqual([]);
  });
});

// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import type { PendingSwitch } from "./VersionNav.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VersionNav } from "./VersionNav.js";

afterEach(cleanup);

/** What a pane holds for its navs (ChatPane's useRef). */
const pane = (): PendingSwitch => ({ current: null });

describe("VersionNav", () => {
  const versions = { index: 2, count: 3, siblingIds: [10, 20, 30] };

  it("names the version for screen readers and switches to the neighbouring sibling", () => {
    const switched: number[] = [];
    const { getByRole, getByTestId } = render(<VersionNav versions={versions} of="answer" pending={pane()} disabled={false} onSwitch={(id) => switched.push(id)} />);
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
    const first = render(<VersionNav versions={{ ...versions, index: 1 }} of="message" pending={pane()} disabled={false} onSwitch={() => {}} />);
    expect(first.getByRole("button", { name: "Previous version of this message" }).getAttribute("aria-disabled")).toBe("true");
    expect(first.getByRole("button", { name: "Next version of this message" }).getAttribute("aria-disabled")).toBe("false");
    cleanup();
    const switched: number[] = [];
    const busy = render(<VersionNav versions={versions} of="message" pending={pane()} disabled onSwitch={(id) => switched.push(id)} />);
    for (const button of busy.getAllByRole("button")) {
      // Still focusable (the keyboard focus stays where it was), but it does nothing.
      expect(button.getAttribute("aria-disabled")).toBe("true");
      expect((button as HTMLButtonElement).disabled).toBe(false);
      fireEvent.click(button);
    }
    expect(switched).toEqual([]);
  });
});

describe("VersionNav: a switch the user made is said once it shows", () => {
  const said = (view: ReturnType<typeof render>) => view.getByTestId("version-announcement").textContent;
  let shared = pane();
  beforeEach(() => {
    shared = pane();
  });
  const nav = (index: number, count = 3, of = "answer", pending = shared) => (
    <VersionNav versions={{ index, count, siblingIds: [10, 20, 30, 40].slice(0, count) }} of={of} pending={pending} disabled={false} onSwitch={() => {}} />
  );

  it("says nothing on first sight, then the version the press led to, in a live region of its own", () => {
    const view = render(nav(2));
    const region = view.getByTestId("version-announcement");
    expect(region.getAttribute("role")).toBe("status");
    expect(region.getAttribute("aria-live")).toBe("polite");
    expect(said(view)).toBe("");
    fireEvent.click(view.getByRole("button", { name: "Next version of this answer" }));
    // Not before the version shows (the server may refuse the switch).
    expect(said(view)).toBe("");
    view.rerender(nav(3));
    expect(said(view)).toBe("Version 3 of 3");
    // Back and forth: the same words again come as a new node, so a screen reader hears them again.
    fireEvent.click(view.getByRole("button", { name: "Previous version of this answer" }));
    view.rerender(nav(2));
    const first = region.firstElementChild;
    expect(said(view)).toBe("Version 2 of 3");
    fireEvent.click(view.getByRole("button", { name: "Next version of this answer" }));
    view.rerender(nav(3));
    fireEvent.click(view.getByRole("button", { name: "Previous version of this answer" }));
    view.rerender(nav(2));
    expect(said(view)).toBe("Version 2 of 3");
    expect(region.firstElementChild).not.toBe(first);
  });

  it("says nothing for a version nobody asked for (a regenerate), and drops stale words", () => {
    const view = render(nav(1, 2));
    fireEvent.click(view.getByRole("button", { name: "Next version of this answer" }));
    view.rerender(nav(2, 2));
    expect(said(view)).toBe("Version 2 of 2");
    // A regenerate shows a new third version: not announced here (the answer is), and "2 of 2" is no longer true.
    view.rerender(nav(3, 3));
    expect(said(view)).toBe("");
  });

  it("is said by the new nav when the switch replaced the item (another version of a question is another message)", () => {
    const pressed = render(nav(2, 3, "message"));
    fireEvent.click(pressed.getByRole("button", { name: "Previous version of this message" }));
    pressed.unmount();
    const shown = render(nav(1, 3, "message"));
    expect(said(shown)).toBe("Version 1 of 3");
    // Said once: the next nav to show that version (a reload, another conversation) is quiet.
    shown.unmount();
    expect(said(render(nav(1, 3, "message")))).toBe("");
  });

  it("is said by a nav of the pane where it was pressed only: another pane's press is no news here", () => {
    // Pressed in one pane, which went away before that version showed (another conversation was opened)...
    const pressed = render(nav(2, 3, "message"));
    fireEvent.click(pressed.getByRole("button", { name: "Previous version of this message" }));
    pressed.unmount();
    // ...another pane that shows the version later (the same conversation, opened again) heard no press.
    expect(said(render(nav(1, 3, "message", pane())))).toBe("");
  });
});

// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "./App.js";
import { trpcWrapper } from "./test-support/trpc.js";

beforeEach(() => {
  // jsdom has no layout: the narrow (drawer) layout is asked for, and answered "no".
  vi.stubGlobal("matchMedia", (query: string) => ({ matches: false, media: query, addEventListener: () => {}, removeEventListener: () => {} }));
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const answers: Record<string, unknown> = {
  "models.list": { models: [], defaultModel: null, demo: false },
  health: { ok: true, demo: false },
  "conversations.list": [],
};

describe("App drawer", () => {
  it("stays open on the Escape of an IME composition, and closes on Escape otherwise", () => {
    const view = render(<App />, { wrapper: trpcWrapper((path) => answers[path] ?? null) });
    fireEvent.click(view.getByRole("button", { name: "Show conversations" }));
    const sidebar = view.container.querySelector("#sidebar")!;
    expect(sidebar.classList.contains("is-open")).toBe(true);
    fireEvent.keyDown(window, { key: "Escape", isComposing: true });
    fireEvent.keyDown(window, { key: "Escape", keyCode: 229 });
    expect(sidebar.classList.contains("is-open")).toBe(true);
    fireEvent.keyDown(window, { key: "Escape" });
    expect(sidebar.classList.contains("is-open")).toBe(false);
  });

  it("tells screen readers whether the drawer its toggle controls is open", () => {
    const view = render(<App />, { wrapper: trpcWrapper((path) => answers[path] ?? null) });
    const toggle = view.getByRole("button", { name: "Show conversations" });
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    fireEvent.click(toggle);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    fireEvent.keyDown(window, { key: "Escape" });
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
  });
});

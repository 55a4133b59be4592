// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "./App.js";
import { serverError, trpcWrapper } from "./test-support/trpc.js";

beforeEach(() => {
  // jsdom has no layout: the narrow (drawer) layout is asked for, and answered "no".
  vi.stubGlobal("matchMedia", (query: string) => ({ matches: false, media: query, addEventListener: () => {}, removeEventListener: () => {} }));
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  localStorage.clear();
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

describe("App: \"Sign-in is required\" under a refused message", () => {
  /**
   * A page whose sign-in check (models.list) passed, on a server that then refuses its message (the token went stale,
   * or was cleared): the refusal shows under the message, and no banner (the page's check was never refused).
   */
  async function refusedPage() {
    let token: string | null = null;
    const wrapper = trpcWrapper((path) => {
      if (path === "chat.send" && token === null) throw serverError("UNAUTHORIZED", "Sign-in is required", "unauthorized");
      return answers[path] ?? null;
    });
    const view = render(<App />, { wrapper });
    const composer = view.container.querySelector<HTMLTextAreaElement>("#composer-input")!;
    fireEvent.change(composer, { target: { value: "Hello before the token" } });
    fireEvent.keyDown(composer, { key: "Enter" });
    const refusal = () => view.queryByTestId("action-error");
    await waitFor(() => expect(refusal()?.textContent).toContain("Sign-in is required"));
    expect(view.queryByTestId("auth-banner")).toBeNull();
    // The sign-in check's answers come at a later millisecond than the first (React Query's dataUpdatedAt).
    await act(() => new Promise((resolve) => setTimeout(resolve, 5)));
    return { view, refusal, signIn: (next: string) => (token = next) };
  }

  it("goes once a token saved here passes the sign-in check, though this page never saw that check refused", async () => {
    const { view, refusal, signIn } = await refusedPage();
    signIn("alice-secret-token");
    fireEvent.change(view.getByLabelText("API token"), { target: { value: "alice-secret-token" } });
    fireEvent.submit(view.container.querySelector(".token-setting form")!);
    await waitFor(() => expect(refusal()).toBeNull());
  });

  it("goes once a token saved in another tab passes the sign-in check", async () => {
    const { refusal, signIn } = await refusedPage();
    signIn("alice-secret-token");
    localStorage.setItem("streamchat.token", "alice-secret-token");
    // What the browser tells the other tabs of the app.
    act(() => {
      window.dispatchEvent(new StorageEvent("storage", { key: "streamchat.token", newValue: "alice-secret-token" }));
    });
    await waitFor(() => expect(refusal()).toBeNull());
  });
});

// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { createRef } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "../App.js";
import { serverError, trpcWrapper } from "../test-support/trpc.js";
import { Sidebar, type SidebarProps } from "./Sidebar.js";

afterEach(() => {
  cleanup();
  localStorage.clear();
});

const answers = (path: string) => (path === "conversations.list" || path === "conversations.search" ? [] : null);

function sidebar(props: Partial<SidebarProps> = {}) {
  return (
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
      {...props}
    />
  );
}

describe("Sidebar search keys", () => {
  it("keeps the query on the Escape of an IME composition, and clears it on Escape otherwise", () => {
    render(sidebar(), { wrapper: trpcWrapper(answers) });
    const search = screen.getByRole<HTMLInputElement>("searchbox", { name: "Search conversations" });
    fireEvent.change(search, { target: { value: "東京 にほ" } });
    fireEvent.keyDown(search, { key: "Escape", isComposing: true });
    fireEvent.keyDown(search, { key: "Escape", keyCode: 229 });
    expect(search.value).toBe("東京 にほ");
    fireEvent.keyDown(search, { key: "Escape" });
    expect(search.value).toBe("");
  });
});

describe("Sidebar panels and Escape", () => {
  /** What reaches the page after the sidebar: App closes the drawer on an Escape nobody prevented. */
  function pageEscapes(): () => string[] {
    const heard: string[] = [];
    const listen = (e: KeyboardEvent) => {
      if (e.key === "Escape") heard.push(e.defaultPrevented ? "prevented" : "free");
    };
    window.addEventListener("keydown", listen);
    afterEach(() => window.removeEventListener("keydown", listen));
    return () => heard;
  }
  const panel = (name: string) => screen.getByText(name, { selector: "summary" }).parentElement as HTMLDetailsElement;

  it.each(["Keyboard shortcuts", "Appearance", "Model settings", "Tools", "API token"])(
    "folds the open %s panel on Escape and gives the focus back to its summary; the next Escape is the drawer's",
    (name) => {
      const heard = pageEscapes();
      render(sidebar(), { wrapper: trpcWrapper(answers) });
      const details = panel(name);
      const summary = details.querySelector("summary")!;
      details.open = true;
      // From inside the panel where there is a control (the token field, a theme's radio), else from its summary.
      const inside = details.querySelector<HTMLElement>("input") ?? summary;
      inside.focus();
      fireEvent.keyDown(inside, { key: "Escape" });
      expect(details.open).toBe(false);
      expect(document.activeElement).toBe(summary);
      expect(heard()).toEqual([]); // the drawer stays open

      fireEvent.keyDown(summary, { key: "Escape" });
      expect(heard()).toEqual(["free"]);
    },
  );

  it("leaves the panel open on an IME's Escape and on Shift+Escape (focus the message box)", () => {
    render(sidebar(), { wrapper: trpcWrapper(answers) });
    const details = panel("API token");
    details.open = true;
    const input = screen.getByLabelText<HTMLInputElement>("API token");
    input.focus();
    fireEvent.keyDown(input, { key: "Escape", isComposing: true });
    fireEvent.keyDown(input, { key: "Escape", shiftKey: true });
    expect(details.open).toBe(true);
    expect(document.activeElement).toBe(input);
  });
});

describe("Sidebar API token", () => {
  beforeEach(() => {
    // jsdom has no layout: the narrow (drawer) layout is asked for, and answered "no".
    vi.stubGlobal("matchMedia", (query: string) => ({ matches: false, media: query, addEventListener: () => {}, removeEventListener: () => {} }));
  });
  afterEach(() => vi.unstubAllGlobals());

  /**
   * The whole page (App feeds the setting its `unauthorized` and `unauthorizedAt` from the models list, its sign-in
   * check), on a server that wants a token: `models` answers each check, and the test decides when.
   */
  async function page() {
    let models: () => unknown = () => {
      throw serverError("UNAUTHORIZED", "Sign-in is required");
    };
    const wrapper = trpcWrapper((path) => (path === "models.list" ? models() : path === "conversations.list" ? [] : null));
    const view = render(<App />, { wrapper });
    const setting = () => view.container.querySelector<HTMLDetailsElement>(".token-setting")!;
    const said = () => [...setting().querySelectorAll('[role="alert"], [role="status"]')].map((el) => el.textContent);
    const button = () => setting().querySelector('button[type="submit"]')!.textContent;
    await waitFor(() => expect(said()).toEqual(["This server requires an API token."]));
    /** Saves a token; the server's answer to the check it starts waits for the returned function. */
    const save = async (token: string) => {
      let answer: ((result: () => unknown) => void) | null = null;
      models = () => new Promise((resolve, reject) => (answer = (result) => Promise.resolve().then(result).then(resolve, reject)));
      fireEvent.change(view.getByLabelText("API token"), { target: { value: token } });
      fireEvent.submit(setting().querySelector("form")!);
      // The check is out; React Query tells the page on a later task (its notifyManager), so let one pass.
      await waitFor(() => expect(answer).not.toBeNull());
      await act(() => new Promise((resolve) => setTimeout(resolve, 0)));
      return async (result: () => unknown) => act(async () => answer!(result));
    };
    return { setting, said, button, save };
  }

  it("says it is checking a saved token until the server answers, not Saved; then Saved once it accepts it", async () => {
    const t = await page();
    const answer = await t.save("alice-secret-token");
    // The check is out: no verdict yet, and the setting stays open to give it.
    expect(t.said()).toEqual(["Checking the token…"]);
    expect(t.button()).toBe("Save");
    expect(t.setting().open).toBe(true);

    await answer(() => ({ models: [], defaultModel: null, demo: false }));
    await waitFor(() => expect(t.button()).toBe("Saved"));
    expect(t.said()).toEqual([]);
  });

  it("says the server did not accept a token once it refuses it, after checking", async () => {
    const t = await page();
    const answer = await t.save("alice-secret-tokne");
    expect(t.said()).toEqual(["Checking the token…"]);
    await answer(() => {
      throw serverError("UNAUTHORIZED", "Sign-in is required");
    });
    await waitFor(() => expect(t.said()).toEqual(["The server did not accept this token. Check it and save it again."]));
    expect(t.button()).toBe("Save");
  });
});

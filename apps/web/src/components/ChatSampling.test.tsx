// @vitest-environment jsdom
import { defaultSampling, isDefaultSampling, type Sampling } from "@streamchat/core/browser";
import { act, cleanup, fireEvent, render, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { useConversationFeed } from "../chat/useConversationFeed.js";
import { modalDialogsInJsdom } from "../test-support/dialogs.js";
import { serverError, trpcWrapper } from "../test-support/trpc.js";
import type { RouterOutputs } from "../trpc.js";
import { ChatInstructionsChip } from "./ChatInstructions.js";
import { ChatSamplingChip, ChatSamplingDialog, NewChatSamplingButton } from "./ChatSampling.js";

afterEach(cleanup);

beforeAll(modalDialogsInJsdom);

/** A server that keeps chats' settings and the user's own sampling (`yours`), and records what it was asked and what it saved. */
function fakeServer(
  initial: Record<string, Partial<Sampling>> = {},
  models: { list: Array<{ name: string; samplingDefaults?: Partial<Sampling> }>; defaultModel: string | null } = { list: [], defaultModel: null },
  yours: Partial<Sampling> = {},
) {
  const state = {
    sampling: new Map(Object.entries(initial).map(([id, s]) => [id, { ...defaultSampling, ...s }])),
    yours: { ...defaultSampling, ...yours },
    failYours: false,
    saved: [] as Array<{ conversationId: string; sampling: Partial<Sampling> }>,
    asked: [] as string[],
    failSave: false,
    /** Held until the test lets the save end ("Saving…" meanwhile). */
    hold: null as Promise<void> | null,
  };
  const settingsOf = (conversationId: string) => {
    const sampling = state.sampling.get(conversationId) ?? defaultSampling;
    return { instructions: conversationId === "c-both" ? "Be brief." : "", sampling, updatedAt: 1 };
  };
  const answer = (path: string, input: unknown) => {
    state.asked.push(path);
    if (path === "conversations.settings") return settingsOf((input as { conversationId: string }).conversationId);
    if (path === "settings.get") {
      if (state.failYours) throw serverError("INTERNAL_SERVER_ERROR", "database is locked", "internal");
      return { instructions: "", sampling: state.yours, updatedAt: isDefaultSampling(state.yours) ? null : 1 } satisfies RouterOutputs["settings"]["get"];
    }
    if (path === "models.list") {
      return { provider: "ollama", demo: false, defaultModel: models.defaultModel, models: models.list.map((m) => ({ capabilities: [], capabilitiesInWords: [], ...m })) };
    }
    if (path === "conversations.setSampling") {
      if (state.failSave) throw serverError("BAD_REQUEST", "sampling.temperature: Too big", "bad_request");
      // As the API: the settings named change, the others are kept.
      const saved = input as { conversationId: string; sampling: Partial<Sampling> };
      state.saved.push(saved);
      state.sampling.set(saved.conversationId, { ...(state.sampling.get(saved.conversationId) ?? defaultSampling), ...saved.sampling });
      const stored = settingsOf(saved.conversationId);
      return state.hold ? state.hold.then(() => stored) : stored;
    }
    throw new Error(`unexpected call ${path}`);
  };
  return { state, answer };
}

function openDialog(server: ReturnType<typeof fakeServer>, onClose: () => void = () => {}, model: string | null = null) {
  const view = render(<ChatSamplingDialog source={{ kind: "conversation", conversationId: "c1" }} model={model} onClose={onClose} />, { wrapper: trpcWrapper(server.answer) });
  const field = (name: string) => view.getByLabelText(name) as HTMLInputElement;
  return {
    view,
    dialog: view.getByTestId("chat-sampling-dialog") as HTMLDialogElement,
    temperature: () => field("Temperature"),
    topP: () => field("Top P"),
    seed: () => field("Seed"),
    button: (name: string) => view.getByRole("button", { name }) as HTMLButtonElement,
    /** Once the stored settings are in the fields (they are disabled while they load). */
    loaded: () => waitFor(() => expect(field("Temperature").disabled).toBe(false)),
  };
}

describe("ChatSamplingDialog", () => {
  it("shows the model's defaults as empty fields that say so, each with its hint, nothing to save", async () => {
    const d = openDialog(fakeServer());
    expect(d.view.getByRole("dialog", { name: "Model settings" })).toBe(d.dialog);
    await d.loaded();
    for (const field of [d.temperature(), d.topP(), d.seed()]) {
      expect(field.value).toBe("");
      expect(field.placeholder).toBe("Model default");
      expect(field.type).toBe("number");
    }
    expect(d.temperature().step).toBe("0.05");
    expect(d.topP().step).toBe("0.05");
    expect(d.seed().step).toBe("1");
    // The hints, tied to their fields.
    const hint = (field: HTMLInputElement) => document.getElementById(field.getAttribute("aria-describedby")!)?.textContent;
    expect(hint(d.temperature())).toBe("Lower is more focused and repeatable, higher more varied.");
    expect(hint(d.topP())).toMatch(/^Draws only from the likeliest tokens/);
    expect(hint(d.seed())).toBe("The same seed gives the same answer again, on servers that support it.");
    expect(d.view.getByText(/An empty field uses your default, else the model's\./)).toBeTruthy();
    // The first field has the focus once loaded.
    await waitFor(() => expect(document.activeElement).toBe(d.temperature()));
    expect(d.button("Save").disabled).toBe(true);
    expect(d.button("Use model defaults").disabled).toBe(true);
    expect(d.button("Close")).toBeTruthy();
  });

  it("says in each empty field what the chat's model uses there, where its server says; the slider rests at it", async () => {
    const models = {
      list: [{ name: "qwen3", samplingDefaults: { temperature: 0.6, topP: 0.95 } }, { name: "gpt-oss", samplingDefaults: { temperature: 1 } }, { name: "other" }],
      defaultModel: "qwen3",
    };
    const slider = (d: ReturnType<typeof openDialog>) => d.view.container.querySelector<HTMLInputElement>('input[type="range"]')!;
    // The server's default model (the chat has none of its own yet).
    const d = openDialog(fakeServer({}, models));
    await d.loaded();
    await waitFor(() => expect(d.temperature().placeholder).toBe("Model default: 0.6"));
    expect([d.topP().placeholder, d.seed().placeholder]).toEqual(["Model default: 0.95", "Model default"]);
    expect([slider(d).value, slider(d).classList.contains("is-default")]).toEqual(["0.6", true]);
    cleanup();
    // The chat's own model; one its server says nothing about.
    const oss = openDialog(fakeServer({}, models), () => {}, "gpt-oss");
    await oss.loaded();
    await waitFor(() => expect(oss.temperature().placeholder).toBe("Model default: 1"));
    expect(oss.topP().placeholder).toBe("Model default");
    cleanup();
    const other = openDialog(fakeServer({}, models), () => {}, "other");
    await other.loaded();
    expect([other.temperature().placeholder, slider(other).value]).toEqual(["Model default", "1"]);
  });

  it("says in each empty field the user's own default where they have one, else the model's; the slider rests at theirs", async () => {
    const models = { list: [{ name: "qwen3", samplingDefaults: { temperature: 0.6, topP: 0.95 } }], defaultModel: "qwen3" };
    const slider = (d: ReturnType<typeof openDialog>) => d.view.container.querySelector<HTMLInputElement>('input[type="range"]')!;
    const server = fakeServer({ c1: { seed: 42 } }, models, { temperature: 0.3, seed: 7 });
    const d = openDialog(server);
    // Not ready until their defaults are known: an empty field cannot say what it gives before.
    expect([d.temperature().disabled, d.temperature().placeholder]).toEqual([true, "Loading…"]);
    await d.loaded();
    await waitFor(() => expect(d.topP().placeholder).toBe("Model default: 0.95"));
    expect(d.temperature().placeholder).toBe("Your default: 0.3");
    // The chat's own seed is in its field; the user's shows only where the chat sets none.
    expect([d.seed().value, d.seed().placeholder]).toEqual(["42", "Your default: 7"]);
    expect([slider(d).value, slider(d).classList.contains("is-default")]).toEqual(["0.3", true]);
    expect(server.state.asked).toContain("settings.get");
    // Emptying the fields gives the user's defaults (and the model's where they have none): named so.
    expect(d.view.queryByRole("button", { name: "Use model defaults" })).toBeNull();
    fireEvent.click(d.button("Use defaults"));
    expect([d.seed().value, d.seed().placeholder]).toEqual(["", "Your default: 7"]);
    fireEvent.click(d.button("Save"));
    await d.view.findByRole("button", { name: "Saved" });
    expect(server.state.saved).toEqual([{ conversationId: "c1", sampling: { seed: null } }]);
  });

  it("asks for the user's defaults again each time it opens: another tab may have changed them", async () => {
    const server = fakeServer({}, { list: [], defaultModel: null }, { temperature: 0.3 });
    function Host({ open }: { open: boolean }) {
      return open ? <ChatSamplingDialog source={{ kind: "conversation", conversationId: "c1" }} model={null} onClose={() => {}} /> : null;
    }
    // One query client for both openings, whose answers stay fresh 5 s, as the page's own.
    const wrapper = trpcWrapper(server.answer, undefined, { staleTime: 5_000 });
    const view = render(<Host open />, { wrapper });
    const temperature = () => view.getByLabelText("Temperature") as HTMLInputElement;
    await waitFor(() => expect(temperature().placeholder).toBe("Your default: 0.3"));
    view.rerender(<Host open={false} />);
    server.state.yours = { ...defaultSampling, temperature: 1.1 };
    view.rerender(<Host open />);
    await waitFor(() => expect(temperature().placeholder).toBe("Your default: 1.1"));
    expect(server.state.asked.filter((p) => p === "settings.get")).toHaveLength(2);
  });

  it("says so when the user's defaults cannot be loaded, and shows the model's meanwhile", async () => {
    const server = fakeServer({}, { list: [{ name: "m", samplingDefaults: { temperature: 0.7 } }], defaultModel: "m" });
    server.state.failYours = true;
    const d = openDialog(server);
    const alert = await d.view.findByRole("alert");
    expect(alert.textContent).toBe("Could not load your default model settings. Something went wrong on the server.");
    await waitFor(() => expect(d.temperature().placeholder).toBe("Model default: 0.7"));
    expect(d.temperature().disabled).toBe(false);
  });

  it("shows the stored settings; the same value typed otherwise is no change", async () => {
    const d = openDialog(fakeServer({ c1: { temperature: 0.7, seed: 42 } }));
    await d.loaded();
    expect([d.temperature().value, d.topP().value, d.seed().value]).toEqual(["0.7", "", "42"]);
    fireEvent.change(d.temperature(), { target: { value: "0.70" } });
    expect(d.button("Save").disabled).toBe(true);
    expect(d.button("Close")).toBeTruthy();
  });

  it("says in words what is out of range, as typed, and keeps Save disabled until it is fixed", async () => {
    const d = openDialog(fakeServer());
    await d.loaded();
    fireEvent.change(d.temperature(), { target: { value: "2.5" } });
    const problem = d.view.getByText("Temperature is a number from 0 to 2.");
    expect(d.temperature().getAttribute("aria-invalid")).toBe("true");
    expect(d.temperature().getAttribute("aria-describedby")).toContain(problem.id);
    expect(d.button("Save").disabled).toBe(true);
    // Something not saved is there: Cancel, not Close.
    expect(d.button("Cancel")).toBeTruthy();

    fireEvent.change(d.topP(), { target: { value: "0" } });
    fireEvent.change(d.seed(), { target: { value: "4.5" } });
    d.view.getByText("Top P is a number above 0, up to 1.");
    d.view.getByText("Seed is a whole number from 0 to 2,147,483,647.");

    fireEvent.change(d.temperature(), { target: { value: "0.2" } });
    fireEvent.change(d.topP(), { target: { value: "" } });
    expect(d.view.queryByText("Temperature is a number from 0 to 2.")).toBeNull();
    expect(d.view.queryByText("Top P is a number above 0, up to 1.")).toBeNull();
    expect(d.button("Save").disabled).toBe(true);
    fireEvent.change(d.seed(), { target: { value: "42" } });
    expect(d.temperature().getAttribute("aria-invalid")).toBe("false");
    expect(d.button("Save").disabled).toBe(false);
  });

  it("does not take text the browser cannot read as a number (its value is \"\") for an empty field", async () => {
    const d = openDialog(fakeServer({ c1: { seed: 42 } }));
    await d.loaded();
    const seed = d.seed();
    // As Chromium has it after "1e": the value is "", and the validity says why.
    let badInput = false;
    Object.defineProperty(seed, "validity", { get: () => ({ badInput }), configurable: true });
    fireEvent.change(seed, { target: { value: "1" } });
    badInput = true;
    fireEvent.change(seed, { target: { value: "" } });
    d.view.getByText("Seed is a whole number from 0 to 2,147,483,647.");
    expect(d.button("Save").disabled).toBe(true);
    fireEvent.click(d.dialog);
    expect(d.dialog.open).toBe(true);
    // Use model defaults gives fresh, empty fields.
    fireEvent.click(d.button("Use model defaults"));
    expect(d.view.queryByText(/^Seed is/)).toBeNull();
    expect(d.seed()).not.toBe(seed);
    expect(d.button("Save").disabled).toBe(false);
  });

  it("saves the settings changed alone: one changed meanwhile elsewhere keeps that change", async () => {
    const server = fakeServer({ c1: { temperature: 0.7, seed: 42 } });
    const d = openDialog(server);
    await d.loaded();
    fireEvent.change(d.topP(), { target: { value: "0.5" } });
    // Another tab (or the CLI) sets the seed while this dialog is open.
    server.state.sampling.set("c1", { temperature: 0.7, topP: null, seed: 7 });
    fireEvent.click(d.button("Save"));
    await d.view.findByRole("button", { name: "Saved" });
    expect(server.state.saved).toEqual([{ conversationId: "c1", sampling: { topP: 0.5 } }]);
    // What the server stored is shown: its seed too.
    expect([d.temperature().value, d.topP().value, d.seed().value]).toEqual(["0.7", "0.5", "7"]);
  });

  it("saves all three when all three changed, null for each left empty, then shows what the server stored, Saved until the next edit", async () => {
    const server = fakeServer({ c1: { topP: 0.9 } });
    const d = openDialog(server);
    await d.loaded();
    fireEvent.change(d.temperature(), { target: { value: "0.2" } });
    fireEvent.change(d.topP(), { target: { value: "" } });
    fireEvent.change(d.seed(), { target: { value: "42" } });
    let release = () => {};
    server.state.hold = new Promise((resolve) => (release = resolve));
    fireEvent.click(d.button("Save"));
    expect(((await d.view.findByRole("button", { name: "Saving…" })) as HTMLButtonElement).disabled).toBe(true);
    release();
    await d.view.findByRole("button", { name: "Saved" });
    expect(server.state.saved).toEqual([{ conversationId: "c1", sampling: { temperature: 0.2, topP: null, seed: 42 } }]);
    expect([d.temperature().value, d.topP().value, d.seed().value]).toEqual(["0.2", "", "42"]);
    expect(d.button("Close")).toBeTruthy();
    expect(d.dialog.open).toBe(true);

    fireEvent.change(d.seed(), { target: { value: "7" } });
    expect(d.button("Save").disabled).toBe(false);
  });

  it("puts every field back to the model's default with Use model defaults, saved as nulls", async () => {
    const server = fakeServer({ c1: { temperature: 0.3, topP: 0.8, seed: 5 } });
    const d = openDialog(server);
    await d.loaded();
    fireEvent.change(d.seed(), { target: { value: "oops" } });
    fireEvent.click(d.button("Use model defaults"));
    expect([d.temperature().value, d.topP().value, d.seed().value]).toEqual(["", "", ""]);
    expect(d.view.queryByText(/^Seed is/)).toBeNull();
    expect(d.button("Use model defaults").disabled).toBe(true);
    fireEvent.click(d.button("Save"));
    await d.view.findByRole("button", { name: "Saved" });
    expect(server.state.saved).toEqual([{ conversationId: "c1", sampling: defaultSampling }]);
  });

  it("moves the temperature with its slider, which rests dimmed while the model's default is used", async () => {
    const d = openDialog(fakeServer());
    await d.loaded();
    const slider = d.view.container.querySelector<HTMLInputElement>('input[type="range"]')!;
    // The field beside it is the one keyboards and screen readers use.
    expect(slider.getAttribute("aria-hidden")).toBe("true");
    expect(slider.tabIndex).toBe(-1);
    expect(slider.classList.contains("is-default")).toBe(true);
    fireEvent.change(slider, { target: { value: "0.35" } });
    expect(d.temperature().value).toBe("0.35");
    expect(slider.classList.contains("is-default")).toBe(false);
    expect(d.button("Save").disabled).toBe(false);
  });

  it("says in words when saving fails, and keeps what was typed", async () => {
    const server = fakeServer();
    server.state.failSave = true;
    const d = openDialog(server);
    await d.loaded();
    fireEvent.change(d.temperature(), { target: { value: "1.2" } });
    fireEvent.click(d.button("Save"));
    const alert = await d.view.findByRole("alert");
    expect(alert.textContent).toMatch(/^Could not save this chat's model settings\. \S/);
    expect(alert.textContent).not.toContain("Too big");
    expect(d.temperature().value).toBe("1.2");
    expect(d.button("Save").disabled).toBe(false);
    // The next edit takes the failure away.
    fireEvent.change(d.temperature(), { target: { value: "1.1" } });
    expect(d.view.queryByRole("alert")).toBeNull();
  });

  it("says so when the settings cannot be loaded", async () => {
    const view = render(<ChatSamplingDialog source={{ kind: "conversation", conversationId: "c1" }} model={null} onClose={() => {}} />, {
      wrapper: trpcWrapper(() => {
        throw new TypeError("Failed to fetch");
      }),
    });
    expect((await view.findByRole("alert")).textContent).toBe("Could not load this chat's model settings. The server is not reachable.");
  });

  it("keeps an edit not saved over a click on its backdrop (even one not valid yet); Cancel and Escape close it", async () => {
    const onClose = vi.fn();
    const d = openDialog(fakeServer({ c1: { temperature: 0.7 } }), onClose);
    await d.loaded();
    fireEvent.change(d.temperature(), { target: { value: "3" } });
    fireEvent.click(d.dialog); // the backdrop: the dialog element itself
    expect(d.dialog.open).toBe(true);
    expect(d.temperature().value).toBe("3");
    // Escape is the dialog's own (it closes it natively): it goes no further, not to the answer's Stop.
    const heard = vi.fn();
    document.addEventListener("keydown", heard);
    d.temperature().dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    document.removeEventListener("keydown", heard);
    expect(heard).not.toHaveBeenCalled();
    fireEvent.click(d.button("Cancel"));
    expect(d.dialog.open).toBe(false);
    expect(onClose).toHaveBeenCalledTimes(1);

    cleanup();
    onClose.mockClear();
    const unchanged = openDialog(fakeServer(), onClose);
    await unchanged.loaded();
    fireEvent.click(unchanged.dialog);
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});

describe("ChatSamplingDialog on a new chat's draft", () => {
  it("shows the draft, asks nothing of a conversation, and keeps a valid edit through onSave (Saved until the next edit)", async () => {
    const server = fakeServer();
    const saved: Sampling[] = [];
    const source = { kind: "draft" as const, value: { ...defaultSampling, seed: 7 }, onSave: (s: Sampling) => saved.push(s) };
    const view = render(<ChatSamplingDialog source={source} model={null} onClose={() => {}} />, { wrapper: trpcWrapper(server.answer) });
    const field = (name: string) => view.getByLabelText(name) as HTMLInputElement;
    // Only the user's defaults to load (what its empty fields give); then the first field has the focus.
    await waitFor(() => expect(field("Temperature").disabled).toBe(false));
    await waitFor(() => expect(document.activeElement).toBe(field("Temperature")));
    expect(field("Seed").value).toBe("7");
    expect(view.getByText(/They are saved with the chat when you send its first message\.$/)).toBeTruthy();

    // Out of range: not kept.
    fireEvent.change(field("Temperature"), { target: { value: "3" } });
    expect((view.getByRole("button", { name: "Save" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(field("Temperature"), { target: { value: "0.3" } });
    fireEvent.click(view.getByRole("button", { name: "Save" }));
    expect(saved).toEqual([{ temperature: 0.3, topP: null, seed: 7 }]);
    // The pane keeps the draft and gives it back as the value.
    view.rerender(<ChatSamplingDialog source={{ ...source, value: saved[0]! }} model={null} onClose={() => {}} />);
    expect(field("Temperature").value).toBe("0.3");
    expect(view.getByRole("button", { name: "Saved" })).toBeTruthy();
    fireEvent.change(field("Seed"), { target: { value: "8" } });
    expect(view.getByRole("button", { name: "Save" })).toBeTruthy();

    // Use model defaults keeps none.
    fireEvent.click(view.getByRole("button", { name: "Use model defaults" }));
    fireEvent.click(view.getByRole("button", { name: "Save" }));
    expect(saved.at(-1)).toEqual(defaultSampling);

    await new Promise((resolve) => setTimeout(resolve, 10));
    // Only the model list and the user's defaults (what empty fields give), nothing of a conversation's.
    expect(server.state.asked.filter((p) => p !== "models.list")).toEqual(["settings.get"]);
  });
});

describe("NewChatSamplingButton", () => {
  it("is a quiet button named Model settings while the model's defaults are used, and the marker once some are chosen", () => {
    const onOpen = vi.fn();
    const view = render(<NewChatSamplingButton sampling={defaultSampling} onOpen={onOpen} />);
    const button = view.getByRole("button", { name: "Model settings" });
    expect(button.textContent).toBe("Model settings");
    expect(button.getAttribute("aria-haspopup")).toBe("dialog");
    expect(button.classList.contains("chat-marker--none")).toBe(true);
    expect(button.dataset.testid).toBe("chat-sampling-button");
    fireEvent.click(button);
    expect(onOpen).toHaveBeenCalledWith(button);

    view.rerender(<NewChatSamplingButton sampling={{ temperature: 0.2, topP: null, seed: 42 }} onOpen={onOpen} />);
    // The same button (what opened the dialog keeps the focus after a save), now the marker.
    const marker = view.getByRole("button", { name: "Model settings: Temperature 0.2 · Seed 42" });
    expect(marker).toBe(button);
    expect(marker.textContent).toBe("Temperature 0.2 · Seed 42");
    expect(marker.classList.contains("chat-marker--none")).toBe(false);
    expect(marker.dataset.testid).toBe("chat-sampling-chip");
  });
});

describe("ChatSamplingChip", () => {
  it("names the settings chosen, and opens them", async () => {
    const onOpen = vi.fn();
    const view = render(<ChatSamplingChip conversationId="c1" onOpen={onOpen} />, {
      wrapper: trpcWrapper(fakeServer({ c1: { temperature: 0.2, seed: 42 } }).answer),
    });
    const chip = await view.findByRole("button", { name: "Model settings: Temperature 0.2 · Seed 42" });
    expect(chip.getAttribute("title")).toBe("Model settings: Temperature 0.2 · Seed 42");
    expect(chip.textContent).toBe("Temperature 0.2 · Seed 42");
    expect(chip.getAttribute("aria-haspopup")).toBe("dialog");
    fireEvent.click(chip);
    expect(onOpen).toHaveBeenCalledWith(chip);
  });

  it("shows nothing for a chat left to the model's defaults", async () => {
    const server = fakeServer({ c2: { seed: 1 } });
    const view = render(<ChatSamplingChip conversationId="c1" onOpen={() => {}} />, { wrapper: trpcWrapper(server.answer) });
    await waitFor(() => expect(server.state.asked).toContain("conversations.settings"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(view.container.innerHTML).toBe("");
  });

  it("shares one fetch of the chat's settings with the instructions marker, and follows the feed's sampling-changed", async () => {
    const server = fakeServer();
    let sendFeed: ((id: string, data: unknown) => void) | undefined;
    function Feed() {
      useConversationFeed({ onDeleted: () => {} });
      return null;
    }
    const view = render(
      <>
        <Feed />
        <ChatInstructionsChip conversationId="c-both" onOpen={() => {}} />
        <ChatSamplingChip conversationId="c-both" onOpen={() => {}} />
      </>,
      {
        wrapper: trpcWrapper(server.answer, (path, _input, send) => {
          if (path === "conversations.feed") sendFeed = send;
        }),
      },
    );
    await view.findByTestId("chat-instructions-chip");
    expect(server.state.asked.filter((p) => p === "conversations.settings")).toHaveLength(1);
    expect(view.queryByTestId("chat-sampling-chip")).toBeNull();

    // Set in another tab: the feed says so, and the marker comes.
    server.state.sampling.set("c-both", { temperature: 0.2, topP: null, seed: 42 });
    await waitFor(() => expect(sendFeed).toBeDefined());
    await act(async () => sendFeed!("1", { type: "sampling-changed", conversationId: "c-both", at: Date.now() }));
    const chip = await view.findByTestId("chat-sampling-chip");
    expect(chip.getAttribute("aria-label")).toBe("Model settings: Temperature 0.2 · Seed 42");
    expect(server.state.asked.filter((p) => p === "conversations.settings")).toHaveLength(2);
    // Not a change to the list, nor to the room a message has.
    expect(server.state.asked.filter((p) => p !== "conversations.settings")).toEqual([]);
  });
});

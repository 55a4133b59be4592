// @vitest-environment jsdom
import { defaultSampling, type Sampling } from "@streamchat/core/browser";
import { cleanup, fireEvent, render, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { serverError, trpcWrapper } from "../test-support/trpc.js";
import type { RouterInputs, RouterOutputs } from "../trpc.js";
import { SamplingPanel } from "./SamplingPanel.js";

afterEach(cleanup);

/**
 * A server that keeps one user's sampling as the API does (the settings named change, the others stay), and records
 * what it was asked and sent. Its default model, "demo", has a temperature of its own, as the simulator's.
 */
function fakeServer(initial: Partial<Sampling> = {}) {
  const state = {
    sampling: { ...defaultSampling, ...initial },
    saved: [] as Array<RouterInputs["settings"]["setSampling"]>,
    asked: [] as string[],
    failSave: false,
    /** Held until the test lets the save end ("Saving…" meanwhile). */
    hold: null as Promise<void> | null,
  };
  const settings = (): RouterOutputs["settings"]["get"] => ({ instructions: "Be brief.", sampling: state.sampling, updatedAt: 1 });
  const answer = (path: string, input: unknown) => {
    state.asked.push(path);
    if (path === "settings.get") return settings();
    if (path === "models.list") {
      return {
        provider: "ollama",
        demo: true,
        defaultModel: "demo",
        models: [{ name: "demo", capabilities: [], capabilitiesInWords: [], samplingDefaults: { temperature: 0.7 } }],
      };
    }
    if (path === "settings.setSampling") {
      if (state.failSave) throw serverError("BAD_REQUEST", "sampling.temperature: Too big", "bad_request");
      const sent = input as RouterInputs["settings"]["setSampling"];
      state.saved.push(sent);
      state.sampling = { ...state.sampling, ...sent.sampling };
      const stored = settings() satisfies RouterOutputs["settings"]["setSampling"];
      return state.hold ? state.hold.then(() => stored) : stored;
    }
    throw new Error(`unexpected call ${path}`);
  };
  return { state, answer };
}

function openPanel(server: ReturnType<typeof fakeServer>) {
  const view = render(<SamplingPanel />, { wrapper: trpcWrapper(server.answer) });
  const field = (name: string) => view.getByLabelText(name) as HTMLInputElement;
  return {
    view,
    open: () => {
      const details = view.getByTestId("sampling-panel") as HTMLDetailsElement;
      details.open = true;
      fireEvent(details, new Event("toggle"));
    },
    temperature: () => field("Temperature"),
    topP: () => field("Top P"),
    seed: () => field("Seed"),
    button: (name: string) => view.getByRole("button", { name }) as HTMLButtonElement,
    /** Once the stored settings are in the fields (they are disabled while they load). */
    loaded: () => waitFor(() => expect(field("Temperature").disabled).toBe(false)),
  };
}

describe("SamplingPanel", () => {
  it("loads the user's settings when opened, each empty field saying the model's own value where its server says", async () => {
    const server = fakeServer({ temperature: 0.3 });
    const p = openPanel(server);
    expect(p.view.getByText("Model settings", { selector: "summary" })).toBeTruthy();
    // Folded: nothing asked.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(server.state.asked).toEqual([]);
    p.open();
    expect([p.temperature().disabled, p.temperature().placeholder]).toEqual([true, "Loading…"]);
    await p.loaded();
    expect([p.temperature().value, p.topP().value, p.seed().value]).toEqual(["0.3", "", ""]);
    await waitFor(() => expect(p.temperature().placeholder).toBe("Model default: 0.7"));
    expect([p.topP().placeholder, p.seed().placeholder]).toEqual(["Model default", "Model default"]);
    expect(p.view.getByText("Every chat's answers use these, unless the chat sets its own. An empty field leaves it to the model.")).toBeTruthy();
    // The dialog's fields: the hint tied to each, the slider beside the temperature.
    const hint = document.getElementById(p.seed().getAttribute("aria-describedby")!)?.textContent;
    expect(hint).toBe("The same seed gives the same answer again, on servers that support it.");
    expect(p.view.container.querySelector<HTMLInputElement>('input[type="range"]')?.value).toBe("0.3");
    expect(p.button("Save").disabled).toBe(true);
    expect(server.state.asked.sort()).toEqual(["models.list", "settings.get"]);
  });

  it("checks each field as typed, in the dialog's words, and keeps Save disabled until it is fixed", async () => {
    const p = openPanel(fakeServer());
    p.open();
    await p.loaded();
    fireEvent.change(p.temperature(), { target: { value: "2.5" } });
    const problem = p.view.getByText("Temperature is a number from 0 to 2.");
    expect(p.temperature().getAttribute("aria-invalid")).toBe("true");
    expect(p.temperature().getAttribute("aria-describedby")).toContain(problem.id);
    expect(p.button("Save").disabled).toBe(true);
    fireEvent.change(p.topP(), { target: { value: "0" } });
    p.view.getByText("Top P is a number above 0, up to 1.");
    fireEvent.change(p.topP(), { target: { value: "" } });
    fireEvent.change(p.temperature(), { target: { value: "0.2" } });
    expect(p.view.queryByText(/is a number/)).toBeNull();
    expect(p.button("Save").disabled).toBe(false);
    // The same value typed otherwise is no change.
    fireEvent.change(p.temperature(), { target: { value: "" } });
    fireEvent.change(p.seed(), { target: { value: "" } });
    expect(p.button("Save").disabled).toBe(true);
  });

  it("saves the settings changed alone, then shows what the server stored, Saved until the next edit", async () => {
    const server = fakeServer({ temperature: 0.3, seed: 42 });
    const p = openPanel(server);
    p.open();
    await p.loaded();
    fireEvent.change(p.topP(), { target: { value: "0.9" } });
    // Emptied: back to the model's.
    fireEvent.change(p.temperature(), { target: { value: "" } });
    // Another tab sets the seed meanwhile.
    server.state.sampling = { ...server.state.sampling, seed: 7 };
    let release = () => {};
    server.state.hold = new Promise((resolve) => (release = resolve));
    fireEvent.click(p.button("Save"));
    expect(((await p.view.findByRole("button", { name: "Saving…" })) as HTMLButtonElement).disabled).toBe(true);
    release();
    await p.view.findByRole("button", { name: "Saved" });
    expect(server.state.saved).toEqual([{ sampling: { temperature: null, topP: 0.9 } }]);
    // The stored settings, the other tab's seed too; the answer put in the cache, not asked for again.
    expect([p.temperature().value, p.topP().value, p.seed().value]).toEqual(["", "0.9", "7"]);
    expect(server.state.asked.filter((path) => path === "settings.get")).toHaveLength(1);

    fireEvent.change(p.seed(), { target: { value: "8" } });
    expect(p.button("Save").disabled).toBe(false);
  });

  it("says in words when saving fails, and keeps what was typed", async () => {
    const server = fakeServer();
    server.state.failSave = true;
    const p = openPanel(server);
    p.open();
    await p.loaded();
    fireEvent.change(p.temperature(), { target: { value: "1.2" } });
    fireEvent.click(p.button("Save"));
    const alert = await p.view.findByRole("alert");
    expect(alert.textContent).toMatch(/^Could not save your model settings\. \S/);
    expect(alert.textContent).not.toContain("Too big");
    expect(p.temperature().value).toBe("1.2");
    expect(p.button("Save").disabled).toBe(false);
    // The next edit takes the failure away.
    fireEvent.change(p.temperature(), { target: { value: "1.1" } });
    expect(p.view.queryByRole("alert")).toBeNull();
  });

  it("says so when they cannot be loaded", async () => {
    const view = render(<SamplingPanel />, {
      wrapper: trpcWrapper(() => {
        throw new TypeError("Failed to fetch");
      }),
    });
    const details = view.getByTestId("sampling-panel") as HTMLDetailsElement;
    details.open = true;
    fireEvent(details, new Event("toggle"));
    expect((await view.findByRole("alert")).textContent).toBe("Could not load your model settings. The server is not reachable.");
  });
});

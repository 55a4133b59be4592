// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { serverError, trpcWrapper } from "../test-support/trpc.js";
import type { RouterInputs, RouterOutputs } from "../trpc.js";
import { InstructionsPanel, maxInstructionsChars } from "./InstructionsPanel.js";

afterEach(cleanup);

const open = (view: ReturnType<typeof render>) => {
  const details = view.getByTestId("instructions-panel") as HTMLDetailsElement;
  details.open = true;
  fireEvent(details, new Event("toggle"));
};

/**
 * A server that keeps one user's instructions, trimming them as the API does, and records what it was sent. Its
 * settings are the API's whole answer (their sampling too: the instructions' setter returns it as well).
 */
function fakeSettings(initial = "") {
  const state = { instructions: initial, updatedAt: initial ? 1 : null, saved: [] as string[], failSave: false };
  const settings = (): RouterOutputs["settings"]["get"] => ({
    instructions: state.instructions,
    sampling: { temperature: 0.3, topP: null, seed: null },
    updatedAt: state.updatedAt,
  });
  const answer = (path: string, input: unknown) => {
    if (path === "settings.get") return settings();
    if (path === "settings.setInstructions") {
      if (state.failSave) throw serverError("BAD_REQUEST", "instructions: must be at most 4000 characters", "bad_request");
      const { instructions } = input as RouterInputs["settings"]["setInstructions"];
      state.saved.push(instructions);
      state.instructions = instructions.trim();
      state.updatedAt = (state.updatedAt ?? 0) + 1;
      return settings() satisfies RouterOutputs["settings"]["setInstructions"];
    }
    throw new Error(`unexpected call ${path}`);
  };
  return { state, answer };
}

describe("InstructionsPanel", () => {
  it("loads the stored instructions when opened, saves an edit, and shows what the server stored", async () => {
    const server = fakeSettings("Be brief.");
    const view = render(<InstructionsPanel />, { wrapper: trpcWrapper(server.answer) });
    open(view);
    const box = view.getByLabelText("Custom instructions") as HTMLTextAreaElement;
    await view.findByDisplayValue("Be brief.");
    const save = view.getByRole("button", { name: "Save" }) as HTMLButtonElement;
    // Nothing to save until the text changes (whitespace alone is no change: the server trims).
    expect(save.disabled).toBe(true);
    fireEvent.change(box, { target: { value: "Be brief.  " } });
    expect(save.disabled).toBe(true);

    fireEvent.change(box, { target: { value: "  Answer in French.\n" } });
    expect(view.getByText(`20 / ${maxInstructionsChars}`)).toBeTruthy();
    expect(save.disabled).toBe(false);
    fireEvent.click(save);
    await view.findByRole("button", { name: "Saved" });
    expect(server.state.saved).toEqual(["  Answer in French.\n"]);
    expect(box.value).toBe("Answer in French.");
    expect(box.maxLength).toBe(maxInstructionsChars);

    // The next edit takes "Saved" away.
    fireEvent.change(box, { target: { value: "Answer in German." } });
    expect(view.getByRole("button", { name: "Save" })).toBeTruthy();
  });

  it("says in words when saving fails, and keeps the draft", async () => {
    const server = fakeSettings();
    server.state.failSave = true;
    const view = render(<InstructionsPanel />, { wrapper: trpcWrapper(server.answer) });
    open(view);
    const box = view.getByLabelText("Custom instructions") as HTMLTextAreaElement;
    await view.findByPlaceholderText(/Answer briefly/);
    fireEvent.change(box, { target: { value: "Call me Ishmael." } });
    fireEvent.click(view.getByRole("button", { name: "Save" }));
    const alert = await view.findByRole("alert");
    expect(alert.textContent).toMatch(/^Could not save your instructions\. /);
    expect(alert.textContent).not.toContain("4000 characters");
    expect(box.value).toBe("Call me Ishmael.");
  });

  it("says so when they cannot be loaded", async () => {
    const view = render(<InstructionsPanel />, {
      wrapper: trpcWrapper(() => {
        throw new TypeError("Failed to fetch");
      }),
    });
    open(view);
    expect((await view.findByRole("alert")).textContent).toBe("Could not load your instructions. The server is not reachable.");
  });
});

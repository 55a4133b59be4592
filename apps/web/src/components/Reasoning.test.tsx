// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Reasoning, thoughtLabel } from "./Reasoning.js";

afterEach(cleanup);

const step = (text: string, endedAt: number | null = 4_000) => ({ kind: "reasoning" as const, text, startedAt: 1_000, endedAt });

describe("Reasoning", () => {
  it("sets its text as Markdown: lists, emphasis, code and headings, not their marks", () => {
    const text = "## Plan\n\n1. Read the **question**\n2. Check `n > 0`\n\n```py\nprint(1)\n```";
    const { getByTestId, getByRole } = render(<Reasoning step={step(text, null)} live />);
    const body = getByTestId("reasoning-text");
    expect(body.querySelector("h2")?.textContent).toBe("Plan");
    expect([...body.querySelectorAll("ol > li")].map((li) => li.textContent)).toEqual(["Read the question", "Check n > 0"]);
    expect(body.querySelector("strong")?.textContent).toBe("question");
    expect(body.querySelector("pre code")?.textContent).toBe("print(1)\n");
    expect(body.textContent).not.toContain("**");
    // Live: no caret in the reasoning (the label's shimmer says it is being written).
    expect(body.querySelector(".caret")).toBeNull();
    expect(getByRole("button", { name: "Thinking…" }).getAttribute("aria-expanded")).toBe("true");
  });

  it("folds when done and opens on click, still as Markdown", () => {
    const { queryByTestId, getByRole } = render(<Reasoning step={step("- one\n- *two*")} live={false} />);
    expect(queryByTestId("reasoning-text")).toBeNull();
    fireEvent.click(getByRole("button", { name: /Thought for 3 s/ }));
    expect([...queryByTestId("reasoning-text")!.querySelectorAll("li")].map((li) => li.innerHTML)).toEqual(["one", "<em>two</em>"]);
    expect(thoughtLabel({ startedAt: null, endedAt: null })).toBe("Thought process");
  });
});

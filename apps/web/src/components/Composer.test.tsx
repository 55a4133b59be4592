// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Composer, type ThinkSetting } from "./Composer.js";

afterEach(cleanup);

function renderComposer(think: ThinkSetting) {
  return render(<Composer busy={false} canStop={false} onSubmit={() => {}} onStop={() => {}} stopping={false} think={think} />);
}

describe("Composer Think toggle", () => {
  it("is not shown for a model without the thinking capability", () => {
    const { queryByTestId } = renderComposer({ available: false, on: true, onChange: () => {} });
    expect(queryByTestId("think-toggle")).toBeNull();
  });

  it("is shown for a thinking model, pressed as remembered, and toggles", () => {
    const changes: unknown[] = [];
    const { getByTestId } = renderComposer({ available: true, on: true, onChange: (on) => changes.push(on) });
    const toggle = getByTestId("think-toggle");
    expect(toggle.getAttribute("aria-pressed")).toBe("true");
    fireEvent.click(toggle);
    expect(changes).toEqual([false]);
  });
});

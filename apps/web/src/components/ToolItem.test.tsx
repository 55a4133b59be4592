// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { argumentSummary, ToolItem } from "./ToolItem.js";

afterEach(cleanup);

describe("ToolItem", () => {
  it("is one line while running, with a spinner and no result yet", () => {
    const { getByRole, container } = render(
      <ToolItem tool={{ callId: "c", name: "calculator", args: { expression: "6*7" }, state: "running" }} />,
    );
    const toggle = getByRole("button");
    expect(toggle.textContent).toBe("Using calculator 6*7");
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    expect(container.querySelector(".spinner")).not.toBeNull();
    fireEvent.click(toggle);
    expect(container.textContent).toContain("Waiting for the result…");
  });

  it("says a failed call failed, with the error in the line and in full when expanded", () => {
    const { getByRole } = render(
      <ToolItem
        tool={{
          callId: "c",
          name: "calculator",
          args: { expression: "1/" },
          state: "error",
          error: { code: "tool_failed", message: "Unexpected end of expression" },
          durationMs: 3,
        }}
      />,
    );
    const toggle = getByRole("button");
    expect(toggle.textContent).toBe("Failed: calculator 1/ — Unexpected end of expression · 3 ms");
    fireEvent.click(toggle);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(document.getElementById(toggle.getAttribute("aria-controls")!)?.textContent).toContain(
      "ErrorUnexpected end of expression",
    );
  });

  it("shows arguments and result as pretty JSON only when expanded", () => {
    const { getByRole, queryByTestId, getByTestId } = render(
      <ToolItem tool={{ callId: "c", name: "current_time", args: { timeZone: "Asia/Tokyo" }, state: "ok", result: { formatted: "21:05" }, durationMs: 12 }} />,
    );
    expect(getByRole("button").textContent).toBe("Used current_time Asia/Tokyo · 12 ms");
    expect(queryByTestId("tool-result")).toBeNull();
    fireEvent.click(getByRole("button"));
    expect(getByTestId("tool-result").textContent).toBe('{\n  "formatted": "21:05"\n}');
  });
});

describe("argumentSummary", () => {
  it("shows the values of small objects and compact JSON otherwise", () => {
    expect(argumentSummary({ timeZone: "Asia/Tokyo" })).toBe("Asia/Tokyo");
    expect(argumentSummary({ a: 1, b: true })).toBe("1, true");
    expect(argumentSummary({})).toBe("");
    expect(argumentSummary(undefined)).toBe("");
    expect(argumentSummary({ filter: { from: 1 } })).toBe('{"filter":{"from":1}}');
  });
});

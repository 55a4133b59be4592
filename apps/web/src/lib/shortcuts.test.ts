// @vitest-environment jsdom
import { cleanup, fireEvent, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { shortcuts, useShortcut } from "./shortcuts.js";

afterEach(cleanup);

describe("useShortcut", () => {
  it("leaves the keys of an IME composition to the IME, Safari's closing keyCode 229 included", () => {
    const stops: string[] = [];
    renderHook(() =>
      useShortcut(shortcuts.stop, () => {
        stops.push("stop");
        return true;
      }),
    );
    fireEvent.keyDown(window, { key: "Escape", isComposing: true });
    fireEvent.keyDown(window, { key: "Escape", keyCode: 229 });
    expect(stops).toEqual([]);
    const plain = fireEvent.keyDown(window, { key: "Escape" });
    expect(stops).toEqual(["stop"]);
    expect(plain).toBe(false); // it acted, so the browser's own Escape is suppressed
  });
});

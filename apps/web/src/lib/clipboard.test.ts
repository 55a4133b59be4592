// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { copyText } from "./clipboard.js";

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.innerHTML = "";
});

/** jsdom has no copy command: this one records what was selected when it ran, as the browser would copy it. */
function stubCopyCommand(result = true): { copied: string[] } {
  const copied: string[] = [];
  Object.defineProperty(document, "execCommand", {
    configurable: true,
    value: (command: string) => {
      const active = document.activeElement;
      if (command === "copy" && active instanceof HTMLTextAreaElement) copied.push(active.value.slice(active.selectionStart, active.selectionEnd));
      return result;
    },
  });
  return { copied };
}

describe("copyText", () => {
  it("copies over plain HTTP on the local network, where there is no navigator.clipboard, and keeps the focus", async () => {
    vi.stubGlobal("navigator", { ...navigator, clipboard: undefined });
    const { copied } = stubCopyCommand();
    const button = document.createElement("button");
    document.body.append(button);
    button.focus();
    expect(await copyText("const x = 1;\nconsole.log(x);")).toBe(true);
    expect(copied).toEqual(["const x = 1;\nconsole.log(x);"]);
    expect(document.activeElement).toBe(button);
    expect(document.querySelector("textarea")).toBeNull();
  });

  it("uses the Clipboard API where there is one, and says false when nothing can copy", async () => {
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    stubCopyCommand();
    expect(await copyText("hi")).toBe(true);
    expect(writeText).toHaveBeenCalledWith("hi");

    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText: async () => Promise.reject(new Error("denied")) } });
    stubCopyCommand(false);
    expect(await copyText("hi")).toBe(false);
  });
});

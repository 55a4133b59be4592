// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setTheme, startTheme } from "../lib/theme.js";
import { AppearancePanel } from "./AppearancePanel.js";

let stop: (() => void) | null = null;

beforeEach(() => {
  stop = startTheme();
});

afterEach(() => {
  cleanup();
  stop?.();
  setTheme("system");
  localStorage.clear();
});

const group = () => screen.getByRole("radiogroup", { name: "Theme" });
const radio = (name: string) => within(group()).getByRole<HTMLInputElement>("radio", { name });
const checked = () =>
  within(group())
    .getAllByRole<HTMLInputElement>("radio")
    .filter((r) => r.checked)
    .map((r) => r.value);

describe("Appearance", () => {
  it("is a radio group named Theme: System, Light and Dark, one name (so the arrow keys move within it), one checked", () => {
    render(<AppearancePanel />);
    const radios = within(group()).getAllByRole<HTMLInputElement>("radio");
    expect(radios.map((r) => r.labels?.[0]?.textContent)).toEqual(["System", "Light", "Dark"]);
    expect(radios.map((r) => r.value)).toEqual(["system", "light", "dark"]);
    expect(new Set(radios.map((r) => r.name)).size).toBe(1);
    expect(radios[0]!.name).not.toBe("");
    expect(checked()).toEqual(["system"]);
    // Reachable by Tab: native radios, none taken out of the tab order.
    for (const r of radios) expect(r.tabIndex).toBe(0);
    expect(group().getAttribute("aria-describedby")).toBeTruthy();
    expect(document.getElementById(group().getAttribute("aria-describedby")!)?.textContent).toMatch(/System follows your device/);
  });

  it("sits in a panel summarised as Appearance", () => {
    render(<AppearancePanel />);
    const summary = screen.getByText("Appearance", { selector: "summary" });
    expect(summary.parentElement?.tagName).toBe("DETAILS");
    expect(summary.parentElement?.contains(group())).toBe(true);
  });

  it("shows the stored choice checked", () => {
    setTheme("dark");
    render(<AppearancePanel />);
    expect(checked()).toEqual(["dark"]);
    expect(radio("Dark").checked).toBe(true);
  });

  it("choosing applies it to the page and keeps it", () => {
    render(<AppearancePanel />);
    fireEvent.click(radio("Light"));
    expect(checked()).toEqual(["light"]);
    expect(document.documentElement.getAttribute("data-theme")).toBe("light");
    expect(localStorage.getItem("streamchat.theme")).toBe("light");

    fireEvent.click(radio("Dark"));
    expect(checked()).toEqual(["dark"]);
    expect(document.documentElement.getAttribute("data-theme")).toBe("dark");

    fireEvent.click(radio("System"));
    expect(checked()).toEqual(["system"]);
    expect(document.documentElement.hasAttribute("data-theme")).toBe(false);
    expect(localStorage.getItem("streamchat.theme")).toBeNull();
  });

  it("follows a choice made in another tab", () => {
    render(<AppearancePanel />);
    act(() => {
      localStorage.setItem("streamchat.theme", "dark");
      window.dispatchEvent(new StorageEvent("storage", { key: "streamchat.theme", newValue: "dark", storageArea: localStorage }));
    });
    expect(checked()).toEqual(["dark"]);
    expect(document.documentElement.getAttribute("data-theme")).toBe("dark");
  });
});

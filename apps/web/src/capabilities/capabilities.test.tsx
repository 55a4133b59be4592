// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { emptyMessageState } from "../chat/reducer.js";
import { AssistantMessage } from "../components/AssistantMessage.js";
import { pickerWords } from "../components/ModelPicker.js";
import { ContextMeter, contextFullness, leftOutNotice } from "./ContextMeter.js";
import { MessageImages } from "./MessageImages.js";
import { offersImages } from "./offers-images.js";
import { storedThink, thinkToStore } from "./think-setting.js";
import { ThinkControl, type ThinkChoice } from "./ThinkControl.js";

afterEach(cleanup);

// The 8-byte PNG signature, an IHDR and an IEND: a real (1×1) PNG as far as a signature check goes.
const png = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"), (c) => c.charCodeAt(0));
const context = { contextLength: 8192, limitTokens: 8192, promptTokens: 6000, promptTokensEstimated: false, completionTokens: 600, droppedMessages: 0, truncated: false };

describe("think control", () => {
  it("offers levels as a select named Think level for models that take them", () => {
    const changes: ThinkChoice[] = [];
    const { getByRole } = render(<ThinkControl levels={["low", "medium", "high"]} value="low" onChange={(v) => changes.push(v)} />);
    const select = getByRole("combobox", { name: /^Think/ }) as HTMLSelectElement;
    expect(select.value).toBe("low");
    expect(Array.from(select.options).map((o) => o.value)).toEqual(["off", "low", "medium", "high"]);
    fireEvent.change(select, { target: { value: "high" } });
    fireEvent.change(select, { target: { value: "off" } });
    expect(changes).toEqual(["high", false]);
  });

  it("is an on/off toggle otherwise, and the choice is remembered as text", () => {
    const changes: ThinkChoice[] = [];
    const { getByRole } = render(<ThinkControl levels={undefined} value={false} onChange={(v) => changes.push(v)} />);
    const toggle = getByRole("button", { name: /^Think/ });
    expect(toggle.getAttribute("aria-pressed")).toBe("false");
    fireEvent.click(toggle);
    expect(changes).toEqual([true]);
    expect([true, false, "high"].map((v) => storedThink(thinkToStore(v as ThinkChoice)))).toEqual([true, false, "high"]);
    expect(storedThink(null)).toBe(false);
    expect(storedThink("max")).toBe(false);
  });
});

describe("context meter", () => {
  it("shows last prompt + answer tokens against the limit, and says when older messages were left out", () => {
    expect(contextFullness(context)).toEqual({ used: 6600, limit: 8192, percent: 81 });
    const { getByRole, queryByTestId, rerender } = render(<ContextMeter context={context} />);
    const meter = getByRole("meter", { name: "Context used" });
    expect(meter.getAttribute("aria-valuenow")).toBe("6600");
    expect(meter.textContent).toBe("6.6K / 8K context");
    expect(queryByTestId("context-notice")).toBeNull();
    rerender(<ContextMeter context={{ ...context, droppedMessages: 3 }} />);
    expect(queryByTestId("context-notice")?.textContent).toBe("3 older messages were left out to fit the model's context.");
    expect(leftOutNotice({ ...context, truncated: true })).toMatch(/cut the prompt/);
    rerender(<ContextMeter context={null} />);
    expect(queryByTestId("context-meter")).toBeNull();
  });
});

describe("images", () => {
  it("are offered for a model that sees, and for one whose server does not say (the server decides)", () => {
    expect(offersImages({ capabilities: ["vision", "tools"] })).toBe(true);
    expect(offersImages({ capabilities: ["tools"], unknownCapabilities: ["vision"] })).toBe(true);
    expect(offersImages({ capabilities: ["tools"] })).toBe(false);
    expect(offersImages({ capabilities: [], unknownCapabilities: [] })).toBe(false);
    expect(offersImages(undefined)).toBe(false);
  });

  it("shows stored images as thumbnails that open full size", () => {
    const data = btoa(String.fromCharCode(...png));
    HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
      this.open = true;
    };
    const { getByRole, getByTestId } = render(<MessageImages images={[{ type: "image", mimeType: "image/png", data }, { type: "image", mimeType: "image/png", bytes: 10 }]} />);
    fireEvent.click(getByRole("button", { name: "Open image 1 full size" }));
    expect((getByTestId("image-full") as HTMLImageElement).src).toBe(`data:image/png;base64,${data}`);
  });
});

describe("model picker words", () => {
  it("uses the server's words, says no tools and loaded", () => {
    expect(pickerWords({ capabilities: ["completion", "vision"], capabilitiesInWords: ["sees images", "4K context"], loaded: true })).toBe("No tools, sees images, 4K context · loaded");
    expect(pickerWords({ capabilities: ["completion", "tools", "thinking"], capabilitiesInWords: ["uses tools", "thinks (low, medium, high)"] })).toBe("Uses tools, thinks (low, medium, high)");
    expect(pickerWords({ capabilities: [], capabilitiesInWords: [] })).toBe("Capabilities not reported by the server");
  });
});

describe("model state", () => {
  it('says "Loading <model>…" while the model loads', () => {
    const state = { ...emptyMessageState("r1"), status: { phase: "loading-model" as const, message: "Loading llava…" } };
    const { getByTestId } = render(<AssistantMessage state={state} streaming />);
    expect(getByTestId("status-line").textContent).toBe("Loading llava…");
  });
});

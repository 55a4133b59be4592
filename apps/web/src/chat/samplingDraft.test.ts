// @vitest-environment jsdom
import { defaultSampling } from "@streamchat/core/browser";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createSamplingDraft } from "./samplingDraft.js";

afterEach(() => localStorage.clear());

const item = "streamchat.draftSampling.new";
const chosen = { temperature: 0.3, topP: null, seed: 42 };

describe("a new chat's sampling draft", () => {
  it("is kept in localStorage under the new chat's draft key, and the model's defaults forget it", () => {
    const draft = createSamplingDraft(() => localStorage);
    expect(draft.get()).toEqual(defaultSampling);
    draft.set(chosen);
    expect(draft.get()).toEqual(chosen);
    expect(JSON.parse(localStorage.getItem(item)!)).toEqual(chosen);
    // What a reload reads: the browser's storage.
    expect(createSamplingDraft(() => localStorage).get()).toEqual(chosen);

    draft.set(defaultSampling);
    expect(draft.get()).toEqual(defaultSampling);
    expect(localStorage.getItem(item)).toBeNull();
  });

  it("reads what it cannot parse, or what the API would refuse, as the model's defaults; lasts as long as the page when storage refuses", () => {
    for (const stored of ["{not json", JSON.stringify({ temperature: 3, topP: null, seed: null }), JSON.stringify({ temperature: "0.3" })]) {
      localStorage.setItem(item, stored);
      expect(createSamplingDraft(() => localStorage).get()).toEqual(defaultSampling);
    }

    const refusing = createSamplingDraft(() => {
      throw new DOMException("denied", "SecurityError");
    });
    expect(refusing.get()).toEqual(defaultSampling);
    refusing.set(chosen);
    expect(refusing.get()).toEqual(chosen);
  });

  it("tells its subscribers of changes here and in another tab, and keeps its value's identity when nothing changed", () => {
    const draft = createSamplingDraft(() => localStorage);
    const heard = vi.fn();
    const stop = draft.subscribe(heard);
    draft.set(chosen);
    expect(heard).toHaveBeenCalledTimes(1);
    const kept = draft.get();
    // The same settings again (a new object) are no change: useSyncExternalStore sees the same value.
    draft.set({ ...chosen });
    expect(heard).toHaveBeenCalledTimes(1);
    expect(draft.get()).toBe(kept);

    const there = { temperature: null, topP: 0.9, seed: null };
    window.dispatchEvent(new StorageEvent("storage", { key: item, newValue: JSON.stringify(there) }));
    expect(draft.get()).toEqual(there);
    expect(heard).toHaveBeenCalledTimes(2);
    // Sent (or reset) there: none here either.
    window.dispatchEvent(new StorageEvent("storage", { key: item, newValue: null }));
    expect(draft.get()).toEqual(defaultSampling);
    expect(heard).toHaveBeenCalledTimes(3);
    // The instructions' draft is another item.
    window.dispatchEvent(new StorageEvent("storage", { key: "streamchat.draftInstructions.new", newValue: JSON.stringify({ text: "x" }) }));
    expect(heard).toHaveBeenCalledTimes(3);

    stop();
    draft.set(chosen);
    expect(heard).toHaveBeenCalledTimes(3);
  });
});

// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

type Theme = typeof import("./theme.js");

/** A fresh copy of the module: it reads the stored choice when it loads, as on a page load. */
async function load(stored?: string): Promise<Theme> {
  if (stored !== undefined) localStorage.setItem("streamchat.theme", stored);
  vi.resetModules();
  return import("./theme.js");
}

const attribute = () => document.documentElement.getAttribute("data-theme");

/** What another tab's write looks like here: the storage already holds it, and the event says which key. */
function otherTabWrites(key: string | null, value: string | null): void {
  if (key !== null) {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } else localStorage.clear();
  window.dispatchEvent(new StorageEvent("storage", { key, newValue: value, storageArea: localStorage }));
}

let stop: (() => void) | null = null;

beforeEach(() => {
  localStorage.clear();
  document.documentElement.removeAttribute("data-theme");
});

afterEach(() => {
  stop?.();
  stop = null;
  vi.restoreAllMocks();
});

describe("theme choice", () => {
  it("takes light and dark; anything else is the system's", async () => {
    const { parseTheme } = await load();
    expect(parseTheme("light")).toBe("light");
    expect(parseTheme("dark")).toBe("dark");
    for (const other of ["system", null, undefined, "", "Dark", " dark", "sepia", "1", 1, true, {}]) {
      expect(parseTheme(other), String(other)).toBe("system");
    }
  });

  it("reads the stored choice; a bad or missing one is the system's", async () => {
    expect((await load("dark")).readTheme()).toBe("dark");
    expect((await load("light")).readTheme()).toBe("light");
    expect((await load("midnight")).readTheme()).toBe("system");
    localStorage.clear();
    expect((await load()).readTheme()).toBe("system");
  });

  it("is the system's when storage cannot be read (private mode, a sandboxed frame)", async () => {
    const theme = await load("dark");
    vi.spyOn(Storage.prototype, "getItem").mockImplementation(() => {
      throw new DOMException("denied", "SecurityError");
    });
    expect(theme.readTheme()).toBe("system");
  });

  it("puts an explicit choice on <html> as data-theme, and the system's as no attribute", async () => {
    const { applyTheme } = await load();
    applyTheme("dark");
    expect(attribute()).toBe("dark");
    applyTheme("light");
    expect(attribute()).toBe("light");
    applyTheme("system");
    expect(document.documentElement.hasAttribute("data-theme")).toBe(false);
  });

  it("applies the stored choice at start, before anything renders", async () => {
    const theme = await load("dark");
    stop = theme.startTheme();
    expect(attribute()).toBe("dark");
    expect(theme.getTheme()).toBe("dark");
  });

  it("an unknown stored value at start leaves the page on the system's scheme", async () => {
    document.documentElement.setAttribute("data-theme", "dark"); // whatever was there is not kept
    stop = (await load("purple")).startTheme();
    expect(document.documentElement.hasAttribute("data-theme")).toBe(false);
  });

  it("stores, applies and tells its listeners once per change; System is stored as no entry", async () => {
    const theme = await load();
    stop = theme.startTheme();
    const heard = vi.fn();
    const unsubscribe = theme.subscribeTheme(heard);

    theme.setTheme("dark");
    expect(localStorage.getItem("streamchat.theme")).toBe("dark");
    expect(attribute()).toBe("dark");
    expect(theme.getTheme()).toBe("dark");
    expect(heard).toHaveBeenCalledTimes(1);

    theme.setTheme("dark");
    expect(heard).toHaveBeenCalledTimes(1);

    theme.setTheme("system");
    expect(localStorage.getItem("streamchat.theme")).toBeNull();
    expect(document.documentElement.hasAttribute("data-theme")).toBe(false);
    expect(heard).toHaveBeenCalledTimes(2);

    unsubscribe();
    theme.setTheme("light");
    expect(heard).toHaveBeenCalledTimes(2);
  });

  it("still applies the choice for this page when storage refuses it", async () => {
    const theme = await load();
    vi.spyOn(Storage.prototype, "setItem").mockImplementation(() => {
      throw new DOMException("full", "QuotaExceededError");
    });
    theme.setTheme("light");
    expect(attribute()).toBe("light");
    expect(theme.getTheme()).toBe("light");
  });

  it("follows another tab's choice (the storage event), also when it clears storage; other keys change nothing", async () => {
    const theme = await load();
    stop = theme.startTheme();
    const heard = vi.fn();
    theme.subscribeTheme(heard);

    otherTabWrites("streamchat.theme", "dark");
    expect(attribute()).toBe("dark");
    expect(theme.getTheme()).toBe("dark");
    expect(heard).toHaveBeenCalledTimes(1);

    otherTabWrites("streamchat.token", "light");
    expect(attribute()).toBe("dark");
    expect(heard).toHaveBeenCalledTimes(1);

    otherTabWrites("streamchat.theme", "light");
    expect(attribute()).toBe("light");

    otherTabWrites("streamchat.theme", "nonsense");
    expect(document.documentElement.hasAttribute("data-theme")).toBe(false);
    expect(theme.getTheme()).toBe("system");

    otherTabWrites("streamchat.theme", "dark");
    otherTabWrites(null, null); // localStorage.clear() in another tab
    expect(document.documentElement.hasAttribute("data-theme")).toBe(false);
    expect(theme.getTheme()).toBe("system");
  });

  it("stops following other tabs once stopped", async () => {
    const theme = await load();
    theme.startTheme()();
    otherTabWrites("streamchat.theme", "dark");
    expect(document.documentElement.hasAttribute("data-theme")).toBe(false);
  });
});

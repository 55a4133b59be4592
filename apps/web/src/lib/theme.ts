import { useSyncExternalStore } from "react";

/**
 * The user's Appearance choice. "system" follows the device (prefers-color-scheme); "light" and "dark" hold whatever the
 * device says. styles.css defines every colour once with light-dark(); this module only sets which scheme is used.
 */
export type ThemeChoice = "system" | "light" | "dark";

export const themeChoices: readonly ThemeChoice[] = ["system", "light", "dark"];

/** Where the choice is kept (localStorage): other tabs hear of changes to it (the `storage` event). */
export const themeKey = "streamchat.theme";

/** Anything but a known choice (nothing stored, an old or hand-edited value) is the system's scheme. */
export function parseTheme(value: unknown): ThemeChoice {
  return value === "light" || value === "dark" ? value : "system";
}

export function readTheme(): ThemeChoice {
  try {
    return parseTheme(localStorage.getItem(themeKey));
  } catch {
    return "system"; // storage disabled (private mode, sandboxed iframe)
  }
}

/**
 * `data-theme` on <html> is what styles.css reads (it sets `color-scheme`, so native controls and scrollbars follow too).
 * The system's choice is no attribute at all, so the stylesheet's own `color-scheme: light dark` applies.
 */
export function applyTheme(choice: ThemeChoice, root: HTMLElement = document.documentElement): void {
  if (choice === "system") root.removeAttribute("data-theme");
  else root.setAttribute("data-theme", choice);
}

// Read at once, so a control rendered before startTheme (a test) shows what is stored.
let current: ThemeChoice = readTheme();
const listeners = new Set<() => void>();

function show(choice: ThemeChoice): void {
  applyTheme(choice);
  if (choice === current) return;
  current = choice;
  for (const listener of listeners) listener();
}

export function getTheme(): ThemeChoice {
  return current;
}

export function subscribeTheme(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Applies and keeps the choice (this tab now, the others through their `storage` event). */
export function setTheme(choice: ThemeChoice): void {
  try {
    // The default is stored as no entry, as for the token and drafts: nothing left behind for the common case.
    if (choice === "system") localStorage.removeItem(themeKey);
    else localStorage.setItem(themeKey, choice);
  } catch {
    // nothing to do: the choice then lives only for this page
  }
  show(choice);
}

/**
 * Applies the stored choice and follows the other tabs' changes to it. Called in main.tsx before React renders, so the
 * first frame React paints already has the chosen colours (the CSP allows no inline script in index.html).
 * Returns the function that stops following (for tests).
 */
export function startTheme(): () => void {
  show(readTheme());
  const onStorage = (e: StorageEvent) => {
    // key null: another tab cleared all of this origin's storage, the choice with it.
    if (e.key !== themeKey && e.key !== null) return;
    show(readTheme());
  };
  window.addEventListener("storage", onStorage);
  return () => window.removeEventListener("storage", onStorage);
}

/** The current choice and the function that changes it, for the Appearance control. */
export function useTheme(): [ThemeChoice, (choice: ThemeChoice) => void] {
  return [useSyncExternalStore(subscribeTheme, getTheme, getTheme), setTheme];
}

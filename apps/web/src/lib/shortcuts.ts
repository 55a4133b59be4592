import { useEffect, useRef } from "react";

const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
const mod = (e: KeyboardEvent) => (isMac ? e.metaKey : e.ctrlKey);

export interface Shortcut {
  /** What the user reads ("Ctrl+K", "⌘K" on a Mac). */
  label: string;
  /** For aria-keyshortcuts. */
  aria: string;
  description: string;
  matches: (e: KeyboardEvent) => boolean;
}

/**
 * The key belongs to an input method (Japanese, Chinese, Korean…) that is composing: its Enter picks a candidate and
 * its Escape drops the candidates, neither is meant for the page. Safari sends the Enter that ends a composition with
 * isComposing false; its keyCode 229 (deprecated, but the only sign left) still says the IME took it.
 */
export function isComposing(e: KeyboardEvent): boolean {
  return e.isComposing || e.keyCode === 229;
}

/** The keys people know from the peers (ChatGPT: new chat, focus the composer; most apps: search). */
export const shortcuts = {
  newChat: {
    label: isMac ? "⇧⌘O" : "Ctrl+Shift+O",
    aria: isMac ? "Meta+Shift+O" : "Control+Shift+O",
    description: "New chat",
    matches: (e) => mod(e) && e.shiftKey && !e.altKey && e.key.toLowerCase() === "o",
  },
  search: {
    label: isMac ? "⌘K" : "Ctrl+K",
    aria: isMac ? "Meta+K" : "Control+K",
    description: "Search conversations",
    matches: (e) => mod(e) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === "k",
  },
  focusComposer: {
    label: "Shift+Esc",
    aria: "Shift+Escape",
    description: "Focus the message box",
    matches: (e) => e.shiftKey && !mod(e) && e.key === "Escape",
  },
  stop: {
    label: "Esc",
    aria: "Escape",
    description: "Stop the answer",
    matches: (e) => !e.shiftKey && !mod(e) && !e.altKey && e.key === "Escape",
  },
} satisfies Record<string, Shortcut>;

/**
 * Runs `handler` for a shortcut pressed anywhere on the page. The handler returns whether it acted; only
 * then is the browser's own meaning of the keys (Ctrl+K: the address bar) suppressed.
 */
export function useShortcut(shortcut: Shortcut, handler: (e: KeyboardEvent) => boolean): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.defaultPrevented || isComposing(e) || !shortcut.matches(e)) return;
      if (ref.current(e)) e.preventDefault();
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [shortcut]);
}

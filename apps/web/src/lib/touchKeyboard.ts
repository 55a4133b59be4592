import { useSyncExternalStore } from "react";

/**
 * A device used by touch, with no mouse (a phone, a tablet): its on-screen keyboard has Enter and no Shift+Enter, so Enter
 * is the only way to start a new line there. ChatGPT and Claude let it do that and send with the Send button.
 */
export const touchKeyboardQuery = "(hover: none) and (pointer: coarse)";

const query = () => (typeof window !== "undefined" && typeof window.matchMedia === "function" ? window.matchMedia(touchKeyboardQuery) : null);

function subscribe(onChange: () => void): () => void {
  const list = query();
  list?.addEventListener("change", onChange);
  return () => list?.removeEventListener("change", onChange);
}

/** Whether Enter in the message box should start a new line instead of sending (see touchKeyboardQuery). */
export function useTouchKeyboard(): boolean {
  return useSyncExternalStore(subscribe, () => query()?.matches ?? false, () => false);
}

import { useEffect, type RefObject } from "react";

const focusable =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

function tabbables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(focusable)].filter((el) => el.offsetParent !== null || el === document.activeElement);
}

/**
 * While `active` and the media query matches (the modal drawer layout): moves focus into `ref`, keeps
 * Tab and Shift+Tab inside it, and on deactivation gives focus back to what had it before (or to
 * `fallback()` when that is gone, e.g. the pane that held the toggle was replaced).
 */
export function useFocusTrap(
  ref: RefObject<HTMLElement | null>,
  active: boolean,
  media: string,
  fallback: () => HTMLElement | null,
): void {
  useEffect(() => {
    const root = ref.current;
    if (!active || !root || !window.matchMedia(media).matches) return;
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    // A drawer sliding in is still `visibility: hidden` in its first frame, and hidden elements take
    // no focus: try again on the next frames until it is shown (bounded, in case it never is).
    let frame = 0;
    let attempts = 0;
    const focusIn = () => {
      if (!root.contains(document.activeElement)) tabbables(root)[0]?.focus();
      if (!root.contains(document.activeElement) && ++attempts < 60) frame = requestAnimationFrame(focusIn);
    };
    focusIn();

    const onKeyDown = (event: KeyboardEvent) => {
      // A modal dialog opened from the drawer (delete confirmation) keeps focus itself.
      if (event.key !== "Tab" || document.querySelector("dialog:modal")) return;
      const items = tabbables(root);
      const first = items[0];
      const last = items.at(-1);
      if (!first || !last) return;
      const inside = root.contains(document.activeElement);
      if (event.shiftKey && (document.activeElement === first || !inside)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
        event.preventDefault();
        first.focus();
      }
    };
    // Focus that escapes anyway (a click on the backdrop, a screen reader) is brought back.
    const onFocusIn = (event: FocusEvent) => {
      if (document.querySelector("dialog:modal")) return;
      if (event.target instanceof Node && !root.contains(event.target)) tabbables(root)[0]?.focus();
    };
    document.addEventListener("keydown", onKeyDown);
    document.addEventListener("focusin", onFocusIn);
    return () => {
      cancelAnimationFrame(frame);
      document.removeEventListener("keydown", onKeyDown);
      document.removeEventListener("focusin", onFocusIn);
      const target = previous?.isConnected ? previous : fallback();
      target?.focus();
    };
    // fallback is read when the trap ends; a new function each render must not re-run the trap.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [active, media, ref]);
}

/**
 * The focused control got there from the keyboard (`:focus-visible`): a control that leaves after its action (Stop,
 * Regenerate, Remove) should then hand the focus on, or it falls to <body> and the user tabs in again from the top.
 * Not after a click or a tap: moving the focus into a text field would open a phone's keyboard for nothing.
 */
export function focusedByKeyboard(): boolean {
  const active = typeof document === "undefined" ? null : document.activeElement;
  return active instanceof HTMLElement && active !== document.body && active.matches(":focus-visible");
}

/**
 * A native popover is open (Answer details, the conversation menu): an Escape is for closing it, and light dismiss does.
 * Its button keeps the focus while it is open, so the key's target alone does not say so.
 */
export function popoverOpen(): boolean {
  try {
    return document.querySelector(":popover-open") !== null;
  } catch {
    // An engine without the popover API (jsdom) has no open popover.
    return false;
  }
}

/** The user asked for less motion: scroll at once instead of smoothly. */
export function prefersReducedMotion(): boolean {
  return typeof window !== "undefined" && typeof window.matchMedia === "function" && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/**
 * Focuses `target()` now, or on one of the next frames: a drawer sliding in is still `visibility: hidden` at first, and
 * hidden elements take no focus (bounded, in case it never shows). The drawer's own focus trap meanwhile puts the focus
 * on its first control; this one then moves it on to the control asked for.
 */
export function focusWhenShown(target: () => HTMLElement | null, frames = 30): void {
  let tries = 0;
  const focus = () => {
    const el = target();
    el?.focus();
    if ((!el || document.activeElement !== el) && ++tries < frames) requestAnimationFrame(focus);
  };
  focus();
}

/**
 * The focused control got there from the keyboard (`:focus-visible`): a control that leaves after its action (Stop,
 * Regenerate, Remove) should then hand the focus on, or it falls to <body> and the user tabs in again from the top.
 * Not after a click or a tap: moving the focus into a text field would open a phone's keyboard for nothing.
 */
export function focusedByKeyboard(): boolean {
  const active = typeof document === "undefined" ? null : document.activeElement;
  return active instanceof HTMLElement && active !== document.body && active.matches(":focus-visible");
}

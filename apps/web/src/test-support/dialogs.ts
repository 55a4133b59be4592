/**
 * jsdom has no modal dialogs: `showModal` and `close` as a browser's, as far as the unit tests look (open, and a
 * `close` event once). Kept where a browser has them.
 */
export function modalDialogsInJsdom(): void {
  HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
    this.open = true;
  };
  HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) {
    if (!this.open) return;
    this.open = false;
    this.dispatchEvent(new Event("close"));
  };
}

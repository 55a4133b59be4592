/** Text that arrives in pieces (a streamed response's body): what came so far, and a wait until it contains something. */
export class ArrivingText {
  #text = "";
  readonly #waiters: Array<{ text: string; resolve: () => void }> = [];

  get text(): string {
    return this.#text;
  }

  /** A `data` listener of a response read as UTF-8. */
  readonly append = (chunk: string): void => {
    this.#text += chunk;
    for (const waiter of this.#waiters.splice(0)) {
      if (this.#text.includes(waiter.text)) waiter.resolve();
      else this.#waiters.push(waiter);
    }
  };

  /** Resolves once the text contains `text` (at once when it does already). */
  until(text: string): Promise<void> {
    return this.#text.includes(text) ? Promise.resolve() : new Promise<void>((resolve) => this.#waiters.push({ text, resolve }));
  }
}

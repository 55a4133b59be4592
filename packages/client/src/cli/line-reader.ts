/**
 * Lines of input handed out one per `next()`, where a caller may stop waiting: a line that arrives after its reader
 * gave up goes to the next reader instead of being lost. The CLI needs this because an approval's y/N prompt is given
 * up when another client decides first, and the line typed next is the next question, not an answer to that prompt.
 */
export class LineReader {
  private readonly buffered: string[] = [];
  private readonly waiting: Array<(line: string | undefined) => void> = [];
  private reading = false;
  private ended = false;

  constructor(private readonly source: AsyncIterator<string>) {}

  /** The next line; undefined once input has ended, or at once when `signal` aborts (the line stays for the next call). */
  next(signal?: AbortSignal): Promise<string | undefined> {
    if (this.buffered.length > 0) return Promise.resolve(this.buffered.shift());
    if (this.ended || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(take);
        if (at !== -1) this.waiting.splice(at, 1);
        resolve(undefined);
      };
      const take = (line: string | undefined) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(line);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(take);
      this.read();
    });
  }

  /** One read of the source at a time, and only while someone waits (readline buffers what comes meanwhile). */
  private read(): void {
    if (this.reading || this.ended) return;
    this.reading = true;
    this.source.next().then(
      (result) => {
        this.reading = false;
        if (result.done) this.end();
        else {
          const take = this.waiting.shift();
          if (take) take(result.value);
          else this.buffered.push(result.value);
        }
        if (this.waiting.length > 0) this.read();
      },
      () => {
        this.reading = false;
        this.end();
      },
    );
  }

  private end(): void {
    this.ended = true;
    for (const take of this.waiting.splice(0)) take(undefined);
  }
}

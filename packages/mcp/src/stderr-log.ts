/**
 * What a stdio server writes to stderr goes to the API's log line by line, within bounds: a server stuck in a loop
 * printing warnings, or dumping a whole payload on one line, would otherwise fill the log (and its disk) at the
 * speed it writes. Lines past `maxLines` in a window of `windowMs` are counted, not logged, and the count is logged
 * when the window ends; a line longer than `maxChars` is cut. (The last lines are still kept whole by the transport
 * for the failure's log entry.)
 */
export interface StderrLogLimits {
  maxLines: number;
  windowMs: number;
  maxChars: number;
}

export const defaultStderrLogLimits: StderrLogLimits = { maxLines: 100, windowMs: 10_000, maxChars: 2_000 };

type Emit = (data: Record<string, unknown>, message: string) => void;

export class StderrLog {
  private windowStart = 0;
  private logged = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly emit: Emit,
    private readonly limits: StderrLogLimits = defaultStderrLogLimits,
    private readonly now: () => number = Date.now,
  ) {}

  line(text: string): void {
    const now = this.now();
    if (now - this.windowStart >= this.limits.windowMs) {
      this.report();
      this.windowStart = now;
      this.logged = 0;
    }
    if (this.logged >= this.limits.maxLines) {
      if (this.dropped === 0) {
        this.emit({ maxLines: this.limits.maxLines, windowMs: this.limits.windowMs }, "MCP server writes too much to stderr; its next lines are counted, not logged");
        // The count is logged when the window ends even if the server falls silent.
        this.timer = setTimeout(() => this.report(), this.windowStart + this.limits.windowMs - now);
        this.timer.unref();
      }
      this.dropped++;
      return;
    }
    this.logged++;
    const cut = text.length > this.limits.maxChars ? `${text.slice(0, this.limits.maxChars)}… (${text.length} characters)` : text;
    this.emit({ stderr: cut }, "MCP server stderr");
  }

  private report(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dropped === 0) return;
    this.emit({ droppedLines: this.dropped }, "MCP server stderr lines not logged");
    this.dropped = 0;
  }
}

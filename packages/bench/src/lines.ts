import type { Readable } from "node:stream";

/**
 * Hands every line of `body` (NDJSON, SSE) to `line` as it arrives, decoded as UTF-8, the unterminated rest at the
 * end, then calls `end`. Errors are the caller's to listen for.
 */
export function forEachLine(body: Readable, line: (text: string) => void, end?: () => void): void {
  let buffered = "";
  body.setEncoding("utf8");
  body.on("data", (data: string) => {
    buffered += data;
    let start = 0;
    let newline = buffered.indexOf("\n");
    while (newline !== -1) {
      line(buffered.slice(start, newline));
      start = newline + 1;
      newline = buffered.indexOf("\n", start);
    }
    buffered = start === 0 ? buffered : buffered.slice(start);
  });
  body.on("end", () => {
    if (buffered !== "") line(buffered);
    end?.();
  });
}

import { describe, expect, it } from "vitest";
import { formatFileSize, notAnExportMessage, tooLargeToImportMessage } from "./file-size.js";

describe("file sizes in words", () => {
  it("gives sizes as people read them, in units of 1024", () => {
    expect(formatFileSize(0)).toBe("0 bytes");
    expect(formatFileSize(1)).toBe("1 byte");
    expect(formatFileSize(1023)).toBe("1023 bytes");
    expect(formatFileSize(1024)).toBe("1 KB");
    expect(formatFileSize(3300)).toBe("3.2 KB");
    expect(formatFileSize(10 * 1024 * 1024)).toBe("10 MB");
    expect(formatFileSize(12_000_000)).toBe("11.4 MB");
    // Rounded up into the next unit: not "1024 KB".
    expect(formatFileSize(1024 * 1024 - 10)).toBe("1 MB");
    expect(formatFileSize(3 * 1024 ** 3)).toBe("3 GB");
  });

  it("says how large a refused import is and what the server takes, not byte counts", () => {
    const max = 10 * 1024 * 1024;
    expect(tooLargeToImportMessage(12_000_000, max)).toBe("This file is 11.4 MB; the server imports files of at most 10 MB.");
    // Just over the limit reads as large as it once rounded.
    expect(tooLargeToImportMessage(max + 1, max)).toBe("This file is a little over 10 MB; the server imports files of at most 10 MB.");
    // A body refused before it was read: its size is unknown.
    expect(tooLargeToImportMessage(undefined, max)).toBe("This file is too large; the server imports files of at most 10 MB.");
  });

  it("says a file is no export of this app, and what it is when that can be said", () => {
    expect(notAnExportMessage("it is not JSON")).toBe("This file is not a conversation exported from this app (it is not JSON).");
    expect(notAnExportMessage()).toBe("This file is not a conversation exported from this app.");
  });
});

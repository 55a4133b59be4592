const sizeUnits = ["KB", "MB", "GB"] as const;

/**
 * A file's size as people read it: "512 bytes", "3.2 KB", "11.4 MB", "10 MB" (units of 1024, as file managers show
 * them; one decimal, none when it is 0). One function for the server's refusal of an import and the web app's own
 * check of a picked file, so the user reads one sentence whichever side refuses it.
 */
export function formatFileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  let value = bytes / 1024;
  let unit = 0;
  // Moves up on the rounded value: 1023.96 KB reads "1 MB", not "1024 KB".
  while (Math.round(value * 10) / 10 >= 1024 && unit < sizeUnits.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${(Math.round(value * 10) / 10).toString()} ${sizeUnits[unit]}`;
}

/**
 * Why a file is refused as no conversation export of this app; `looks` says what it is instead, when that can be said
 * ("it is not JSON", "it is empty"). The server's refusal and the web app's own check of a picked file say it alike.
 */
export function notAnExportMessage(looks?: string): string {
  const notAnExport = "This file is not a conversation exported from this app";
  return looks === undefined ? `${notAnExport}.` : `${notAnExport} (${looks}).`;
}

/**
 * Why a file over the import limit is refused, in sizes people read; without `bytes` (a body refused before it was
 * read) only the limit is said. A file only just over the limit would read as large as the limit once rounded ("10 MB;
 * … at most 10 MB"): it is "a little over" it instead.
 */
export function tooLargeToImportMessage(bytes: number | undefined, maxBytes: number): string {
  const max = formatFileSize(maxBytes);
  if (bytes === undefined) return `This file is too large; the server imports files of at most ${max}.`;
  const size = formatFileSize(bytes);
  return `This file is ${size === max ? `a little over ${max}` : size}; the server imports files of at most ${max}.`;
}

/** A text's size as UTF-8 (a file's on disk, without a byte order mark; a request body's): counted, not encoded. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // a surrogate pair: one 4-byte character
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Saves text as a file through the browser's download (an object URL on a temporary link): nothing leaves the page,
 * and the name is the one given.
 */
export function downloadText(filename: string, mimeType: string, content: string): void {
  downloadBlob(filename, new Blob([content], { type: mimeType }));
}

/** Saves a Blob (a file the server sent) the same way. */
export function downloadBlob(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.style.display = "none";
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once it started; the URL is only needed for the click.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

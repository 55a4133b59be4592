import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The sample exports of other chat apps the readers are tested on (src/foreign-export/testdata), as file text. */
export const foreignExportSamples = ["chatgpt-export.json", "claude-conversations.json", "open-webui-export.json"] as const;

export function foreignExportSample(name: (typeof foreignExportSamples)[number]): string {
  return readFileSync(join(here(), "..", "foreign-export", "testdata", name), "utf8");
}

/**
 * This module's directory. Under a jsdom test environment Vite serves modules by URL (`http://localhost:3000/@fs/…`),
 * not `file:`, with the file's path after `/@fs`.
 */
function here(): string {
  const url = new URL(import.meta.url);
  return dirname(url.protocol === "file:" ? fileURLToPath(url) : decodeURIComponent(url.pathname.replace(/^\/@fs/, "")));
}

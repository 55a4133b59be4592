import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("..", import.meta.url));

function appFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "e2e" || entry.name === "test-support" ? [] : appFiles(path);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

describe("the app's imports of the engine", () => {
  it("come from @streamchat/core/browser, never its main entry (providers and tools, built on Node's modules)", () => {
    const files = appFiles(src);
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.filter((file) => /from\s+["']@streamchat\/core["']/.test(readFileSync(file, "utf8")));
    expect(offenders).toEqual([]);
  });
});

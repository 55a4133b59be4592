import { readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as browser from "./browser.js";

const src = dirname(fileURLToPath(import.meta.url));

/** The specifiers a module loads at run time: `import type` and `export type` lines are erased by the compiler. */
function runtimeImports(file: string): string[] {
  const code = readFileSync(file, "utf8");
  const specifiers: string[] = [];
  for (const match of code.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/gm)) {
    if (!match[1]) specifiers.push(match[2]!);
  }
  return specifiers;
}

/** Every module browser.ts reaches (source files, relative to src) and every package it loads. */
function moduleGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of runtimeImports(file)) {
      if (specifier.startsWith(".")) visit(join(dirname(file), specifier.replace(/\.js$/, ".ts")));
      else packages.add(specifier);
    }
  };
  visit(entry);
  return { files: [...files].map((f) => relative(src, f)), packages: [...packages] };
}

describe("the browser entry", () => {
  it("reaches no Node module, provider or tool: the web app bundles all of it", () => {
    const graph = moduleGraph(join(src, "browser.ts"));
    // The walk saw the modules the context-window warning needs (a regex that matched nothing would pass anything).
    expect(graph.files).toEqual(expect.arrayContaining(["browser.ts", "tokens.ts", "context-window.ts", "files.ts"]));
    expect(graph.packages.filter((p) => p.startsWith("node:") || isBuiltin(p))).toEqual([]);
    expect(graph.files.filter((f) => /^(providers|tools)[/\\]|^run\.ts$/.test(f))).toEqual([]);
    // fflate: pure JavaScript with a browser build of its own (Node's build only adds worker threads for its async API).
    expect(graph.packages.sort()).toEqual(["fflate", "zod"]);
    expect(graph.files).toEqual(expect.arrayContaining(["foreign-export/read.ts", "foreign-export/chatgpt.ts", "foreign-export/zip.ts"]));
  });

  it("gives a page the token estimate and the answer room the run loop uses", () => {
    expect(browser.estimateTextTokens("abcd")).toBe(1);
    expect(browser.answerReserve(4096)).toBe(1024);
    expect(browser.defaultMaxContextTokens).toBe(32_768);
  });
});

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The stylesheets' side of the theme (src/lib/theme.ts sets data-theme; these rules turn it into colours).
describe("stylesheets and the theme", () => {
  const src = fileURLToPath(new URL("..", import.meta.url));
  const stylesheets = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? stylesheets(join(dir, entry.name)) : entry.name.endsWith(".css") ? [join(dir, entry.name)] : [],
    );
  const withoutComments = (css: string) => css.replace(/\/\*[\s\S]*?\*\//g, "");

  it("never ask the system's scheme directly: such a rule would ignore an explicit Light or Dark", () => {
    const files = stylesheets(src);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect(withoutComments(readFileSync(file, "utf8")), file).not.toMatch(/prefers-color-scheme/);
    }
  });

  it("define each colour of the palette once for both schemes, and let data-theme narrow color-scheme", () => {
    const css = withoutComments(readFileSync(join(src, "styles.css"), "utf8"));
    const root = /:root\s*\{([^}]*)\}/.exec(css)?.[1] ?? "";
    expect(root).toMatch(/color-scheme:\s*light dark;/);
    const colours = [...root.matchAll(/(--[\w-]+):\s*([^;]+);/g)].filter(([, , value]) => /#|rgb\(/.test(value!));
    expect(colours.length).toBeGreaterThan(20);
    for (const [, name, value] of colours) expect(value, name).toMatch(/light-dark\(/);
    expect(css).toMatch(/:root\[data-theme="light"\]\s*\{\s*color-scheme:\s*light;\s*\}/);
    expect(css).toMatch(/:root\[data-theme="dark"\]\s*\{\s*color-scheme:\s*dark;\s*\}/);
  });
});

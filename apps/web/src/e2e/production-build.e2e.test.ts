import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { webRoot } from "./harness.js";

/**
 * The browser tests run against the build global-setup.ts makes: it must be the production build users get, not one
 * with the libraries' development builds (React's checks and warnings), which a NODE_ENV left at vitest's "test" gave.
 */
describe("the build the browser tests serve", () => {
  it("bundles no library's development build", () => {
    const assets = join(webRoot, "dist", "assets");
    const maps = readdirSync(assets).filter((name) => name.endsWith(".js.map"));
    expect(maps.length).toBeGreaterThan(0);
    const development = maps.flatMap((name) => {
      const { sources } = JSON.parse(readFileSync(join(assets, name), "utf8")) as { sources: string[] };
      return sources.filter((source) => /\.development\.js$/.test(source));
    });
    expect(development).toEqual([]);
  });
});

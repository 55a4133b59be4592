// A developer's TypeScript project that depends on @streamchat/client (fixtures/consumer: `workspace:*`, its own
// tsconfig, stricter and with an older lib than ours) must compile: it sees the declaration files `pnpm build` ships
// (scripts/build-types.ts), never our sources, so our compiler settings and theirs need not agree.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");
const nodeTypes = dirname(require.resolve("@types/node/package.json"));

async function compile(project: string, tsconfig: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [tsc, "-p", tsconfig, "--pretty", "false"], { cwd: project });
    return { code: 0, output: stdout };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    return { code: code ?? -1, output: `${stdout ?? ""}${stderr ?? ""}` };
  }
}

describe("a consumer project's TypeScript", () => {
  let project: string;

  beforeAll(async () => {
    // The declarations as `pnpm build` writes them, from the current sources.
    await run(process.execPath, [join(packageDir, "scripts/build-types.ts")], { cwd: packageDir });
    project = mkdtempSync(join(tmpdir(), "streamchat-consumer-"));
    cpSync(join(packageDir, "fixtures/consumer"), project, { recursive: true });
    // What pnpm makes of `"@streamchat/client": "workspace:*"`: a link to the package.
    mkdirSync(join(project, "node_modules/@streamchat"), { recursive: true });
    mkdirSync(join(project, "node_modules/@types"), { recursive: true });
    symlinkSync(packageDir, join(project, "node_modules/@streamchat/client"), "dir");
    symlinkSync(nodeTypes, join(project, "node_modules/@types/node"), "dir");
  }, 180_000);
  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("resolves the package's types to declaration files", () => {
    const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
      exports: Record<string, { types?: string }>;
    };
    expect(manifest.exports["."]?.types).toMatch(/\.d\.ts$/);
  });

  it("ships no `any` where a consumer's types are inferred (only core's deliberate AnyTool)", () => {
    const types = join(packageDir, "dist/types");
    const found: string[] = [];
    for (const file of readdirSync(types, { recursive: true, encoding: "utf8" }).filter((name) => name.endsWith(".d.ts"))) {
      const code = readFileSync(join(types, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, "");
      for (const line of code.split("\n")) if (/\bany\b/.test(line) && !/AnyTool = Tool<any, unknown>/.test(line)) found.push(`${file}: ${line.trim()}`);
    }
    expect(found).toEqual([]);
  });

  it.each(["tsconfig.json", "tsconfig.node.json"])("compiles with %s (ES2022 lib, every strictness flag)", async (tsconfig) => {
    const { code, output } = await compile(project, tsconfig);
    expect(output).toBe("");
    expect(code).toBe(0);
  }, 120_000);
});

/**
 * The demo model's code must be correct: each snippet is written to disk and run by the real toolchain, and
 * what it prints must be exactly the `output` the answer promises. TypeScript and JavaScript always run (Node
 * is here); Python runs when `python3` is installed; Go, Rust and Java compile slowly, so they run only with
 * SIM_CHECK_ALL_SNIPPETS=1 (and their toolchains installed).
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeTasks, languageIn, languages, taskIn, type LanguageId } from "./demo-code.js";

function installed(command: string, args: string[] = ["--version"]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const all = process.env["SIM_CHECK_ALL_SNIPPETS"] === "1";
const runners: Record<LanguageId, { file: string; enabled: boolean; run: (file: string) => Array<[string, string[]]> }> = {
  // the flag: type stripping is on by default only from Node 22.18 / 23.6, and the engines field allows 22.13
  typescript: { file: "main.mts", enabled: true, run: (f) => [[process.execPath, ["--experimental-strip-types", f]]] },
  javascript: { file: "main.mjs", enabled: true, run: (f) => [[process.execPath, [f]]] },
  python: { file: "main.py", enabled: installed("python3"), run: (f) => [["python3", [f]]] },
  go: { file: "main.go", enabled: all && installed("go", ["version"]), run: (f) => [["go", ["run", f]]] },
  rust: { file: "main.rs", enabled: all && installed("rustc"), run: (f) => [["rustc", ["--edition", "2021", "-o", "main", f]], ["./main", []]] },
  java: { file: "Main.java", enabled: all && installed("javac", ["-version"]), run: (f) => [["javac", [f]], ["java", ["Main"]]] },
};

function exec(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: 60_000, env: { ...process.env, GOCACHE: join(tmpdir(), "sim-snippets-gocache") } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(" ")} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Answers like api.github.com/repos/ollama/ollama, so the HTTP snippets run without the internet. */
let github: Server;
let githubUrl: string;
beforeAll(async () => {
  github = createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ full_name: "ollama/ollama", stargazers_count: 42 }));
  });
  await new Promise<void>((resolve) => github.listen(0, "127.0.0.1", resolve));
  githubUrl = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => github.close(resolve));
});

const cases = codeTasks.flatMap((task) =>
  languages.map((lang) => ({ name: `${task.id} in ${lang.name}`, task, lang: lang.id, snippet: task.snippets[lang.id] })),
);

describe("every code snippet runs and prints what the answer says", () => {
  it.each(cases.filter((c) => runners[c.lang].enabled))("$name", { timeout: 90_000 }, async ({ task, lang, snippet }) => {
    const dir = mkdtempSync(join(tmpdir(), `sim-snippet-${task.id}-`));
    try {
      const runner = runners[lang];
      const network = snippet.output === undefined;
      // Rust's HTTP example needs crates from crates.io; every other snippet uses the standard library only
      if (network && lang === "rust") return;
      writeFileSync(join(dir, runner.file), network ? snippet.code.replace("https://api.github.com", githubUrl) : snippet.code);
      writeFileSync(join(dir, "notes.txt"), "first\nsecond\n");
      let stdout = "";
      for (const [command, args] of runner.run(runner.file)) stdout = await exec(command, args, dir);
      const expected = network ? (lang === "java" ? '{"full_name":"ollama/ollama","stargazers_count":42}' : "ollama/ollama 42") : snippet.output;
      expect(stdout.replace(/\n$/, "")).toBe(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("recognising tasks and languages", () => {
  it.each([
    ["write a python function to reverse a string", "reverse-string", "python"],
    ["How do I reverse a string in Go?", "reverse-string", "go"],
    ["fizzbuzz in rust", "fizzbuzz", "rust"],
    ["fibonacci sequence in java", "fibonacci", "java"],
    ["compute a factorial in javascript", "factorial", "javascript"],
    ["check if a word is a palindrome in typescript", "palindrome", "typescript"],
    ["is 97 prime? write it in python", "primes", "python"],
    ["how to sort a list of numbers in golang", "sort", "go"],
    ["read a file line by line in node", "read-file", "javascript"],
    ["make an HTTP request in Rust", "http-request", "rust"],
    ["fetch JSON from an API in ts", "http-request", "typescript"],
    ["hello world in java", "greet", "java"],
  ])("%s → %s in %s", (text, task, lang) => {
    expect(taskIn(text)?.id).toBe(task);
    expect(languageIn(text)?.id).toBe(lang);
  });

  it("does not see tasks or languages where there are none", () => {
    expect(taskIn("what sort of tools do you have")).toBeUndefined();
    expect(taskIn("parse a CSV file")).toBeUndefined();
    expect(languageIn("write some javascript")?.id).toBe("javascript"); // not Java
    expect(languageIn("let's go to the beach")).toBeUndefined();
    expect(languageIn("turn this python into rust")?.id).toBe("rust");
  });
});

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));

describe("ollama-sim CLI", () => {
  it("prints the simulator banner with its URL, serves Ollama's API and exits 0 on SIGTERM", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", cli, "--port", "0", "--token-delay-ms", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (c: string) => {
          out += c;
          if (out.includes("\n")) resolve(out);
        });
        child.on("exit", () => reject(new Error(`exited early: ${out}`)));
      });
      expect(line).toMatch(/^Ollama-protocol simulator \(not a real model\) listening on http:\/\/127\.0\.0\.1:\d+/);
      const url = /(http:\/\/\S+)/.exec(line)![1]!;
      expect(await (await fetch(url)).text()).toBe("Ollama is running");
      const res = await fetch(`${url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "sim-bench", messages: [{ role: "user", content: "tokens:3" }] }) });
      expect((await res.text()).trim().split("\n")).toHaveLength(4);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });
});

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parentPid, processGroup, processTree, treeCpuMs } from "./proc-tree.js";

const ownCpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

describe("process-tree CPU", () => {
  // Generous deadlines: on a saturated 2-core box a child may wait long for its 250 ms of CPU.
  it("counts a child's CPU in its parent's tree, while it runs and after it ended", { timeout: 180_000 }, async () => {
    // A parent that starts a CPU-burning child, reports its pid, waits for it to end, reports, then idles until killed.
    const script = `
      const { spawn } = require("node:child_process");
      const child = spawn(process.execPath, ["-e", "while (process.cpuUsage().user < 250000) {}; setTimeout(() => {}, 300)"], { stdio: "ignore" });
      console.log("child " + child.pid);
      child.on("exit", () => console.log("reaped"));
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    parent.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    try {
      await waitFor(() => /child (\d+)/.test(out));
      const childPid = Number(/child (\d+)/.exec(out)![1]);
      expect(processTree(parent.pid!)).toEqual([parent.pid, childPid]);
      expect(parentPid(childPid)).toBe(parent.pid);
      await waitFor(() => out.includes("reaped"));
      expect(processTree(parent.pid!)).toEqual([parent.pid]);
      // The child's 250+ ms of CPU (measured by itself) are gone from the live processes but not from the tree's total.
      const tree = treeCpuMs(parent.pid!);
      expect(tree - ownCpuMs(parent.pid!)).toBeGreaterThanOrEqual(240);
    } finally {
      parent.kill("SIGKILL");
    }
  });

  it("fails for a process that is not there", () => {
    expect(() => treeCpuMs(2 ** 22 + 1)).toThrow(/gone/);
  });
});

describe("process group", () => {
  it("lists a group's members, also one whose leader is gone, until they end", async () => {
    // A shell leading a group of its own (detached), with a sleep in the background.
    const leader = spawn("sh", ["-c", "sleep 60 & echo $!; wait"], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
    const pgid = leader.pid as number;
    const sleeper = Number(await new Promise<string>((resolve) => leader.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString()))));
    expect(processGroup(pgid).sort()).toEqual([pgid, sleeper].sort());
    leader.kill("SIGKILL");
    await waitFor(() => !processGroup(pgid).includes(pgid));
    expect(processGroup(pgid)).toEqual([sleeper]);
    process.kill(-pgid, "SIGKILL");
    await waitFor(() => processGroup(pgid).length === 0);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

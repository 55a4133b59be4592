import { type ChildProcess, fork } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { setImmediate as turn } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { machineBusyMs, ProcessCpuClock, processCpuMs, readStat } from "./proc-cpu.js";
import { treeCpuMs } from "./proc-tree.js";

/** /proc/<pid>/stat's utime + stime: whole 10-ms ticks (what the bench read until stop 48). */
const ticksMs = (pid: number) => readStat(pid)!.ownTicks * 10;

// A process that spends the CPU time it is asked for, and that tells its total when asked: its own getrusage, which
// counts every thread to the microsecond. The total is read as the message comes, while it did nothing else since.
const burner = `
const total = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
process.on("message", (ms) => {
  if (ms === "total") return process.send(total());
  const end = total() + ms;
  while (total() < end);
  process.send("done");
});`;

let child: ChildProcess;
beforeAll(async () => {
  child = fork("-e", [burner], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"], env: {} });
  await new Promise((resolve) => child.once("spawn", resolve));
});
afterAll(() => {
  child?.kill("SIGKILL");
});

const ask = <T>(message: number | "total") =>
  new Promise<T>((resolve) => {
    child.once("message", (answer) => resolve(answer as T));
    child.send(message);
  });

/** Until every thread of the process sleeps: a running thread's counter lags until the scheduler's next tick. */
async function quiet(pid: number): Promise<void> {
  const running = () => readdirSync(`/proc/${pid}/task`).some((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] === "R";
  });
  while (running()) await turn();
}

describe("a process's CPU time", () => {
  it("reads a process's CPU to the millisecond, where /proc/<pid>/stat moves in 10-ms ticks", async () => {
    const pid = child.pid!;
    const clock = new ProcessCpuClock(pid);
    /** The clock, /proc/<pid>/stat and the child's own total, read one after the other while the child waits. */
    const read = async () => {
      await quiet(pid);
      const clocked = clock.readMs();
      const ticked = ticksMs(pid);
      const once = processCpuMs(readStat(pid)!);
      const tree = treeCpuMs(pid);
      return { clocked, ticked, once, tree, own: await ask<number>("total") };
    };
    await ask(5); // its code compiled
    const first = await read();
    let before = first;
    const clocked: number[] = [];
    const ticked: number[] = [];
    const once: number[] = [];
    const tree: number[] = [];
    for (let i = 0; i < 8; i++) {
      await ask(3);
      const after = await read();
      clocked.push(after.clocked - before.clocked);
      ticked.push(after.ticked - before.ticked);
      once.push(after.once - before.once);
      tree.push(after.tree - before.tree);
      before = after;
    }
    // Each window of ~3 ms reads as a few ms, not as 0 or 10 as /proc/<pid>/stat has it (the bench's reading before).
    expect(ticked.every((ms) => ms % 10 === 0)).toBe(true);
    // The same for a reading without state (processCpuMs) and a process tree's (treeCpuMs, the cluster's parts).
    for (const ms of [...clocked, ...once, ...tree]) {
      expect(ms).toBeGreaterThan(2);
      expect(ms).toBeLessThan(15);
    }
    // And in all, what the child counted itself. Its own count can be behind by up to one scheduler tick (4 ms here):
    // getrusage takes a thread that is running at that moment (one of V8's) as of that thread's last tick.
    expect(Math.abs(before.clocked - first.clocked - (before.own - first.own))).toBeLessThan(5);
  });

  it("keeps the time of a thread that ended, up to the reading before its end", async () => {
    const worker = fork(
      "-e",
      [
        `const { Worker } = require("node:worker_threads");
         const w = new Worker("const e = process.cpuUsage().user + 20000; while (process.cpuUsage().user < e); require('node:worker_threads').parentPort.postMessage(1); setInterval(() => {}, 1000);", { eval: true });
         w.once("message", () => process.send("busy-done"));
         process.on("message", () => w.terminate().then(() => process.send("ended")));`,
      ],
      { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"], env: {} },
    );
    try {
      const next = () => new Promise((resolve) => worker.once("message", resolve));
      expect(await next()).toBe("busy-done");
      const pid = worker.pid!;
      await quiet(pid);
      const clock = new ProcessCpuClock(pid);
      const before = clock.readMs();
      worker.send("end");
      expect(await next()).toBe("ended");
      await quiet(pid);
      // The worker's 20 ms of CPU are still counted once its thread is gone.
      expect(clock.readMs()).toBeGreaterThanOrEqual(before);
    } finally {
      worker.kill("SIGKILL");
    }
  });
});

describe("the machine's CPU time", () => {
  it("counts what a process spends (a lower bound: everything else on the machine counts too)", async () => {
    const before = machineBusyMs();
    const own = await ask<number>("total");
    await ask(200);
    const spent = (await ask<number>("total")) - own;
    const counted = machineBusyMs() - before;
    // Whole ticks of every core, each off by up to one tick.
    expect(spent).toBeGreaterThanOrEqual(200);
    expect(counted).toBeGreaterThanOrEqual(spent - 30);
  });
});

import { readFileSync } from "node:fs";

// Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel config
// (getconf CLK_TCK), so one tick is 10 ms. That coarse tick is why CPU is only read over whole workloads.
const MS_PER_TICK = 10;

/** User + system CPU time of a process in ms, from /proc/<pid>/stat (fields 14 and 15). */
export function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces and parentheses: fields are counted after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc/${pid}/stat`);
  return (utime + stime) * MS_PER_TICK;
}

/** Resident set size of a process in KB (VmRSS from /proc/<pid>/status). */
export function readRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/** The soft limit on open files of this process (children inherit it). */
export function openFileLimit(): number {
  const limits = readFileSync("/proc/self/limits", "utf8");
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  if (!match?.[1] || match[1] === "unlimited") return Number.POSITIVE_INFINITY;
  return Number(match[1]);
}

/**
 * How many streams can be open at once. Every stream holds two sockets in the bench process (reader and
 * simulator side) and two in the server under test (client and upstream side), so the file limit of one
 * process caps it at about half, minus a margin for everything else a process keeps open.
 */
export function maxOpenStreams(fileLimit = openFileLimit()): number {
  return Math.max(0, Math.floor((fileLimit - 512) / 2));
}

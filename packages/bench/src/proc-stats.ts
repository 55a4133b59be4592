import { readFileSync } from "node:fs";

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

import { readFileSync, readdirSync } from "node:fs";
import { MS_PER_TICK, type ProcStat, processCpuMs, readStat } from "./proc-cpu.js";

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) out.push(stat);
  }
  return out;
}

/** The pid and every live descendant of it (PostgreSQL's backends, nginx's workers). */
export function processTree(rootPid: number, stats: ProcStat[] = allStats()): number[] {
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const alive = new Set(stats.map((s) => s.pid));
  const out: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (!alive.has(pid) || out.includes(pid)) continue;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU time (user + system, ms) a process tree has used so far: every live member's own CPU, to the microsecond
 * (processCpuMs), plus the CPU of the members that ended and were reaped (counted in their parent's cutime/cstime, in
 * whole ticks). PostgreSQL starts a backend per
 * connection and nginx runs its workers as children: reading the root alone would miss most of their work.
 * Children that ended but were not waited for yet are missed until their parent reaps them.
 */
export function treeCpuMs(rootPid: number): number {
  const stats = allStats();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  let ms = 0;
  for (const pid of processTree(rootPid, stats)) {
    const s = byPid.get(pid);
    if (s) ms += processCpuMs(s) + s.reapedChildrenTicks * MS_PER_TICK;
  }
  if (!byPid.has(rootPid)) throw new Error(`process ${rootPid} is gone`);
  return ms;
}

/** Resident set size of a process tree in KB (VmRSS summed; shared pages count once per process). */
export function treeRssKb(rootPid: number): number {
  let kb = 0;
  for (const pid of processTree(rootPid)) {
    try {
      const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      kb += Number(match?.[1] ?? 0);
    } catch {
      // ended meanwhile
    }
  }
  return kb;
}

/**
 * The live members of a process group (zombies left out): also the workers whose master was killed, which are no
 * longer in its tree.
 */
export function processGroup(pgid: number): number[] {
  return allStats()
    .filter((s) => s.pgrp === pgid && !s.zombie)
    .map((s) => s.pid);
}

/** The parent of a process (e.g. PostgreSQL's postmaster from one of its backends). */
export function parentPid(pid: number): number {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} is gone`);
  return stat.ppid;
}

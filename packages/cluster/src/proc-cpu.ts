import { readdirSync, readFileSync } from "node:fs";

// Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel (getconf CLK_TCK): 10 ms a tick.
export const MS_PER_TICK = 10;

export interface ProcStat {
  pid: number;
  ppid: number;
  /** The process group. */
  pgrp: number;
  /** A zombie (ended, not yet waited for by its parent). */
  zombie: boolean;
  /** utime + stime: this process's own CPU, in ticks. */
  ownTicks: number;
  /** cutime + cstime: CPU of its children that ended and were waited for, in ticks. */
  reapedChildrenTicks: number;
}

/** A process's /proc/<pid>/stat, or null when it is gone. */
export function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null; // gone meanwhile
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const n = (i: number) => Number(fields[i]);
  // After the name: state(0) ppid(1) pgrp(2) … utime(11) stime(12) cutime(13) cstime(14).
  return { pid, ppid: n(1), pgrp: n(2), zombie: fields[0] === "Z", ownTicks: n(11) + n(12), reapedChildrenTicks: n(13) + n(14) };
}

/**
 * CPU time everything on the machine has spent since boot, in ms, all cores together: /proc/stat's first line
 * (user, nice, system, irq, softirq, steal; idle and iowait left out), in whole ticks.
 */
export function machineBusyMs(): number {
  const line = readFileSync("/proc/stat", "utf8");
  const fields = line.slice(0, line.indexOf("\n")).trim().split(/\s+/);
  if (fields[0] !== "cpu") throw new Error("/proc/stat does not start with the cpu line");
  const n = (i: number) => Number(fields[i]) || 0;
  // cpu user(1) nice(2) system(3) idle(4) iowait(5) irq(6) softirq(7) steal(8) …
  return (n(1) + n(2) + n(3) + n(6) + n(7) + n(8)) * MS_PER_TICK;
}

/**
 * A process's CPU time read to the microsecond: the sum of its threads' run time (the first field of
 * /proc/<pid>/task/<tid>/schedstat, in ns, user and system together). /proc/<pid>/stat counts in whole 10-ms ticks:
 * a window of 200 ms of CPU (the bare relay's 1,000 one-token streams, an idle window of 20 ms) was off by up to 5 %
 * and 50 %, enough to move a ratio across its target (the bench's reading until stop 48).
 *
 * A thread that ends takes its counter with it: its time up to the reading before is kept, what it ran after that is
 * lost. The servers under test keep their threads (libuv's pool, V8's workers, their worker threads) for their life.
 * A running thread's counter is updated at the scheduler's ticks: the readings here are taken while the server is
 * quiet (before and after a workload), when every counter is current. Where schedstat is not there (a kernel without
 * CONFIG_SCHED_INFO), the clock counts /proc/<pid>/stat's ticks instead.
 */
export class ProcessCpuClock {
  readonly #pid: number;
  /** Each thread's counter at the last reading, in ns. */
  #threads = new Map<string, number>();
  /** The last counters of threads that have ended since the first reading, in ns. */
  #ended = 0;
  readonly #precise: boolean;

  constructor(pid: number) {
    this.#pid = pid;
    this.#precise = hasSchedstat(pid);
  }

  /** CPU time in ms since the process started (less the threads that ended before the first reading). */
  readMs(): number {
    if (!this.#precise) {
      const stat = readStat(this.#pid);
      if (stat === null) throw new Error(`process ${this.#pid} is gone`);
      return stat.ownTicks * MS_PER_TICK;
    }
    const now = new Map<string, number>();
    for (const tid of readdirSync(`/proc/${this.#pid}/task`)) {
      const ns = readThreadNs(this.#pid, tid);
      if (ns !== null) now.set(tid, ns); // null: it ended between the listing and the read
    }
    for (const [tid, ns] of this.#threads) if (!now.has(tid)) this.#ended += ns;
    this.#threads = now;
    let total = this.#ended;
    for (const ns of now.values()) total += ns;
    return total / 1e6;
  }
}

/**
 * The granularity of this machine's CPU readings (ProcessCpuClock, processCpuMs): a microsecond where the kernel
 * has schedstat, else /proc's 10-ms tick. What a short window's figure can be trusted to.
 */
export function cpuClockResolutionMs(): number {
  return hasSchedstat(process.pid) ? 0.001 : MS_PER_TICK;
}

/** The kernel keeps schedstat (CONFIG_SCHED_INFO): the process's run time can be read to the nanosecond. */
function hasSchedstat(pid: number): boolean {
  return readThreadNs(pid, 0) !== null;
}

/** A thread's run time in ns (tid 0: the process's main thread, to see whether schedstat exists), or null. */
function readThreadNs(pid: number, tid: string | 0): number | null {
  try {
    const path = tid === 0 ? `/proc/${pid}/schedstat` : `/proc/${pid}/task/${tid}/schedstat`;
    const ns = Number(readFileSync(path, "utf8").split(" ", 1)[0]);
    return Number.isFinite(ns) ? ns : null;
  } catch {
    return null;
  }
}

/**
 * A process's CPU time in ms, read once (no state between readings, as for a process tree): the sum of its live
 * threads' run time to the microsecond, or the whole-tick count of its /proc/<pid>/stat (`stat`) where that is more
 * (threads that ended took their counters with them, and the tick count still has their time).
 */
export function processCpuMs(stat: ProcStat): number {
  const ticksMs = stat.ownTicks * MS_PER_TICK;
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${stat.pid}/task`)) ns += readThreadNs(stat.pid, tid) ?? 0;
  } catch {
    return ticksMs; // ended meanwhile
  }
  return Math.max(ns / 1e6, ticksMs);
}

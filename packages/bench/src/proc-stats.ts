import { readdirSync, readFileSync } from "node:fs";

// Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel config
// (getconf CLK_TCK), so one tick is 10 ms.
const MS_PER_TICK = 10;

/**
 * User + system CPU time of a process in ms, from /proc/<pid>/stat (fields 14 and 15): whole 10-ms ticks, so a
 * difference of two readings is off by up to 10 ms. ProcessCpuClock reads a process to the microsecond.
 */
export function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces and parentheses: fields are counted after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc/${pid}/stat`);
  return (utime + stime) * MS_PER_TICK;
}

/**
 * A process's CPU time read to the microsecond: the sum of its threads' run time (the first field of
 * /proc/<pid>/task/<tid>/schedstat, in ns, user and system together). /proc/<pid>/stat counts in whole 10-ms ticks:
 * a window of 200 ms of CPU (the bare relay's 1,000 one-token streams, an idle window of 20 ms) was off by up to 5 %
 * and 50 %, enough to move a ratio across its target.
 *
 * A thread that ends takes its counter with it: its time up to the reading before is kept, what it ran after that is
 * lost. The servers under test keep their threads (libuv's pool, V8's workers, their worker threads) for their life.
 * A running thread's counter is updated at the scheduler's ticks: the readings here are taken while the server is
 * quiet (before and after a workload), when every counter is current. Where schedstat is not there (a kernel without
 * CONFIG_SCHED_INFO), the clock reads /proc/<pid>/stat instead.
 */
export class ProcessCpuClock {
  readonly #pid: number;
  /** Each thread's counter at the last reading, in ns. */
  #threads = new Map<string, number>();
  /** The last counters of threads that have ended since the first reading, in ns. */
  #ended = 0;
  #precise: boolean;

  constructor(pid: number) {
    this.#pid = pid;
    this.#precise = readThreadNs(pid, 0) !== null;
  }

  /** CPU time in ms since the process started (less the threads that ended before the first reading). */
  readMs(): number {
    if (!this.#precise) return readCpuMs(this.#pid);
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

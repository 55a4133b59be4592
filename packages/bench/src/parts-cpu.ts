/**
 * CPU by part of a path's topology, counted in the path's measured windows only. PostgreSQL and Redis serve every
 * path of a run, so their CPU between one path's workloads is other paths' work: the workloads read a server's
 * `cpuMs()` at the start and at the end of each measured window (warm-up, floods, paced runs, the hold's idle
 * windows), and only what the parts used between such pairs of readings counts.
 */

/** CPU in ms per part: the API process(es), nginx, Redis, PostgreSQL (0 for a part the topology does not have). */
export interface PartsCpu {
  replicas: number;
  nginx: number;
  redis: number;
  postgres: number;
}

export const noPartsCpu = (): PartsCpu => ({ replicas: 0, nginx: 0, redis: 0, postgres: 0 });

export const partsTotal = (cpu: PartsCpu): number => cpu.replicas + cpu.nginx + cpu.redis + cpu.postgres;

/**
 * `read` gives each part's CPU since it started. `mark()` is called where `cpuMs()` is (it reads, and every second
 * call closes a window); `inWindows` is what the parts used in the closed windows.
 */
export function windowedParts(read: () => PartsCpu): { mark(): PartsCpu; readonly inWindows: PartsCpu } {
  const inWindows = noPartsCpu();
  let windowStart: PartsCpu | null = null;
  return {
    inWindows,
    mark() {
      const cpu = read();
      if (windowStart === null) windowStart = cpu;
      else {
        for (const key of Object.keys(inWindows) as Array<keyof PartsCpu>) inWindows[key] += cpu[key] - windowStart[key];
        windowStart = null;
      }
      return cpu;
    },
  };
}

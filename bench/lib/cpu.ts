// CPU accounting from Linux /proc: a process's own CPU time (the data plane, Redis), and the CPU of
// this process's reaped children (the load generators, counted once they have exited).
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;
const MS_PER_TICK = 1000 / TICKS_PER_SECOND;

/**
 * Fields of /proc/<pid>/stat after the command name, which may contain spaces:
 * [state, ppid, …, utime (11), stime (12), cutime (13), cstime (14), …]; undefined when it is gone.
 */
export function statFields(pid: number | string): number[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
  } catch {
    return undefined; // gone
  }
}

/** utime + stime of a live process, in ms; NaN when it is gone. */
export function processCpuMs(pid: number): number {
  const fields = statFields(pid);
  return fields === undefined ? Number.NaN : ((fields[11] ?? 0) + (fields[12] ?? 0)) * MS_PER_TICK;
}

/** Total CPU of several processes, in ms. */
export function processesCpuMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
}

/** cutime + cstime of this process: the CPU of every child it has waited for, in ms. */
export function reapedChildrenCpuMs(): number {
  const fields = statFields('self') ?? [];
  return ((fields[13] ?? 0) + (fields[14] ?? 0)) * MS_PER_TICK;
}

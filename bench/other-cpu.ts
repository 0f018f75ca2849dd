// How much CPU processes other than the benchmark's own used over a period (Linux /proc): on a shared
// machine, other load lowers every figure, so each run reports it.
import { readdirSync, readFileSync } from 'node:fs';
import { statFields } from './lib/cpu.ts';

export interface CpuSnapshot {
  /** Busy and total time of the whole machine, in clock ticks. */
  machineBusy: number;
  machineTotal: number;
  /** CPU time of this process, its reaped children and its live descendants, in clock ticks. */
  ours: number;
}

export function cpuSnapshot(): CpuSnapshot {
  const [, user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]?.trim().split(/\s+/).map(Number) ?? [];
  const machineBusy = user + nice + system + irq + softirq + steal;
  return { machineBusy, machineTotal: machineBusy + idle + iowait, ours: treeTicks() };
}

/** Other processes' CPU between two snapshots, in % of the whole machine (all CPUs). */
export function otherCpuPercent(from: CpuSnapshot, to: CpuSnapshot): number {
  const others = to.machineBusy - from.machineBusy - (to.ours - from.ours);
  return Math.max(0, (others / (to.machineTotal - from.machineTotal)) * 100);
}

function treeTicks(): number {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const fields = statFields(pid);
    if (fields === undefined) continue;
    const ppid = fields[1] ?? 0;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(pid)]);
    ticks.set(Number(pid), (fields[11] ?? 0) + (fields[12] ?? 0));
  }
  const self = statFields('self') ?? [];
  let total = (self[13] ?? 0) + (self[14] ?? 0); // reaped children: finished load generators
  const pending = [process.pid];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    total += ticks.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}

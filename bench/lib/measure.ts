// One measured run: the load tool plus everything read around it — the data plane's and Redis's CPU,
// the generator's CPU, other processes' CPU, and which path served the reads.
import { cpuSnapshot, otherCpuPercent } from '../other-cpu.ts';
import { pathShare, readCounters } from './checks.ts';
import { processesCpuMs, reapedChildrenCpuMs } from './cpu.ts';
import type { Workload } from './scenarios.ts';
import type { RunningServer } from './servers.ts';
import type { ToolResult } from './tools.ts';
import type { Percentiles } from './stats.ts';

/** A generator above this share of one core may be what limits the figures. */
export const GENERATOR_SATURATED_PERCENT = 90;
/** Other processes above this share of the whole machine make a run's figures unreliable. */
export const OTHER_CPU_WARNING_PERCENT = 15;
/** The share of reads that must take the run's path. */
export const PATH_SHARE_REQUIRED = 0.999;

export interface Measurement {
  /** Calls completed in the measured window, and calls per second. */
  ops: number;
  seconds: number;
  rps: number;
  /** Keys per second: rps times the keys per call (batches). */
  keysPerSecond: number;
  latencyMs: Percentiles;
  errors: number;
  firstError?: string;
  /** The load generator(s), over the whole run: % of one core and µs per call. */
  generatorCpuPercent: number;
  generatorUsPerOp: number;
  /** The server under test (data plane or baseline), µs of CPU per call. */
  serverUsPerOp: number | undefined;
  /** Redis (all nodes), µs of CPU per call. */
  redisUsPerOp: number | undefined;
  /** Processes outside the benchmark, % of the whole machine during the run. */
  otherCpuPercent: number;
  /** Open loop: the rate asked for. */
  targetRate?: number;
  /** Share of reads served by the expected path (data planes with metrics). */
  path?: { expected: string; share: number; reads: number };
  detail?: string;
  flags: string[];
}

export interface MeasureContext {
  server: RunningServer | undefined;
  redisPids: number[];
  workload: Workload;
  keysPerCall: number;
}

/** Runs `tool` with the CPU and path accounting around it. `finish` may post-process after the CPU is read. */
export async function measure(
  context: MeasureContext,
  tool: () => Promise<ToolResult | (() => Promise<ToolResult>)>,
): Promise<Measurement> {
  const { server } = context;
  const serverPids = server?.pids ?? [];
  const counters = server === undefined ? undefined : await readCounters(server);
  const machine = cpuSnapshot();
  const generator = reapedChildrenCpuMs();
  const serverCpu = processesCpuMs(serverPids);
  const redisCpu = processesCpuMs(context.redisPids);
  const wallStart = performance.now();

  const ran = await tool();

  const wallMs = performance.now() - wallStart;
  const generatorMs = reapedChildrenCpuMs() - generator;
  const serverMs = processesCpuMs(serverPids) - serverCpu;
  const redisMs = processesCpuMs(context.redisPids) - redisCpu;
  const other = otherCpuPercent(machine, cpuSnapshot());
  const result = typeof ran === 'function' ? await ran() : ran;
  const countersAfter =
    server === undefined || counters === undefined ? undefined : await readCounters(server);

  const total = Math.max(1, result.totalOps);
  const rps = result.ops / result.seconds;
  const flags: string[] = [];
  const generatorCpuPercent = (generatorMs / wallMs) * 100;
  if (result.errors > 0) flags.push(`${result.errors} errors (first: ${result.firstError ?? '?'})`);
  if (generatorCpuPercent >= GENERATOR_SATURATED_PERCENT) {
    flags.push(`load generator at ${generatorCpuPercent.toFixed(0)}% of a core`);
  }
  if (other > OTHER_CPU_WARNING_PERCENT)
    flags.push(`other processes used ${other.toFixed(0)}% of the machine`);
  let path: Measurement['path'];
  if (server !== undefined && counters !== undefined && countersAfter !== undefined) {
    path = pathShare(counters, countersAfter, server, context.workload);
    if (path.share < PATH_SHARE_REQUIRED) {
      flags.push(
        `only ${(path.share * 100).toFixed(1)}% of ${path.reads} reads took the ${path.expected} path`,
      );
    }
  }
  return {
    ops: result.ops,
    seconds: result.seconds,
    rps,
    keysPerSecond:
      'keys' in result && typeof result.keys === 'number'
        ? result.keys / result.seconds
        : rps * context.keysPerCall,
    latencyMs: result.latencyMs,
    errors: result.errors,
    ...(result.firstError === undefined ? {} : { firstError: result.firstError }),
    generatorCpuPercent,
    generatorUsPerOp: (generatorMs * 1000) / total,
    serverUsPerOp: serverPids.length === 0 ? undefined : (serverMs * 1000) / total,
    redisUsPerOp: context.redisPids.length === 0 ? undefined : (redisMs * 1000) / total,
    otherCpuPercent: other,
    ...(path === undefined ? {} : { path }),
    ...(result.detail === undefined ? {} : { detail: result.detail }),
    flags,
  };
}

// The two load generators, each a child process of its own: wrk for REST, bench/grpc-load.ts for
// gRPC. Both warm up first and give back the same LoadResult.
import { resolve } from 'node:path';
import type { GrpcLoadOptions, GrpcLoadReport } from './grpc-load.ts';
import { run } from './processes.ts';

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Failed or wrong answers (wrk: non-2xx/3xx responses and socket errors). */
  errors: number;
  firstError?: string;
  /** The load generator's CPU in % of one core (gRPC only). */
  generatorCpuPercent?: number;
  /** CPU used by processes other than the benchmark's during the run, in % of the whole machine. */
  otherCpuPercent?: number;
}

export interface Timing {
  warmupS: number;
  durationS: number;
}

const WRK_SCRIPT = resolve(import.meta.dirname, 'wrk.lua');
const GRPC_LOAD = resolve(import.meta.dirname, 'grpc-load.ts');
/** How long a load run may outlive its planned duration before it is killed. */
const RUN_SLACK_MS = 15_000;

export interface WrkOptions extends Timing {
  url: string;
  method: 'GET' | 'PUT';
  body?: string;
  token: string;
  connections: number;
}

export async function runWrk(options: WrkOptions): Promise<LoadResult> {
  const env = { BENCH_TOKEN: options.token, BENCH_METHOD: options.method, BENCH_BODY: options.body ?? '' };
  const wrk = (seconds: number, latency: boolean): Promise<string> => {
    const args = ['-t1', `-c${options.connections}`, `-d${seconds}s`, '-s', WRK_SCRIPT];
    return run(
      'wrk',
      [...args, ...(latency ? ['--latency'] : []), options.url],
      env,
      seconds * 1000 + RUN_SLACK_MS,
    );
  };
  await wrk(options.warmupS, false);
  return parseWrk(await wrk(options.durationS, true));
}

/** Reads Requests/sec, the 50% and 99% latencies and the error counts from wrk's report. */
export function parseWrk(output: string): LoadResult {
  const number = (pattern: RegExp): number => {
    const match = pattern.exec(output);
    if (match === null) throw new Error(`wrk output lacks ${pattern.source}:\n${output}`);
    return Number(match[1]);
  };
  const latencyMs = (percent: string): number => {
    const match = new RegExp(`^\\s*${percent}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
    if (match === null) throw new Error(`wrk output lacks the ${percent}% latency:\n${output}`);
    const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as 'us' | 'ms' | 's' | 'm'];
    return Number(match[1]) * scale;
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrorCount = socketErrors?.slice(1).reduce((sum, count) => sum + Number(count), 0) ?? 0;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const errors = socketErrorCount + Number(non2xx?.[1] ?? 0);
  return {
    rps: number(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: latencyMs('50'),
    p99Ms: latencyMs('99'),
    requests: number(/(\d+) requests in/),
    errors,
    ...(errors === 0 ? {} : { firstError: [socketErrors?.[0], non2xx?.[0]].filter(Boolean).join('; ') }),
  };
}

export async function runGrpcLoad(
  options: Omit<GrpcLoadOptions, 'warmupMs' | 'durationMs'> & Timing,
): Promise<LoadResult> {
  const { warmupS, durationS, ...rest } = options;
  const loadOptions: GrpcLoadOptions = { ...rest, warmupMs: warmupS * 1000, durationMs: durationS * 1000 };
  const timeoutMs = (warmupS + durationS) * 1000 + RUN_SLACK_MS;
  const output = await run(process.execPath, [GRPC_LOAD, JSON.stringify(loadOptions)], {}, timeoutMs);
  const report = JSON.parse(output) as GrpcLoadReport;
  return {
    rps: report.rps,
    p50Ms: report.p50Ms,
    p99Ms: report.p99Ms,
    requests: report.requests,
    errors: report.errors,
    ...(report.firstError === undefined ? {} : { firstError: report.firstError }),
    generatorCpuPercent: report.cpuPercent,
  };
}

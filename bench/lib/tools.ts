// The load tools, each a child process, and the files they replay: ghz (gRPC, closed loop or open
// loop with --async --rps), wrk (REST, closed loop), vegeta (REST, open loop), redis-benchmark, and
// the Node children bench/ioredis-load.ts and bench/local-store-bench.ts. Every runner returns the
// latency samples or percentiles of the measured window only (warm-up cut off) and the number of
// calls made in the whole run (for CPU per operation).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { IoredisLoadOptions, IoredisLoadReport } from '../ioredis-load.ts';
import type { LocalStoreReport } from '../local-store-bench.ts';
import { run } from '../processes.ts';
import {
  NAMESPACE,
  SEQUENCE_LENGTH,
  TTL_SECONDS,
  batchSequence,
  keySequence,
  storageKeyOf,
  valueFor,
  workFile,
} from './dataset.ts';
import type { Workload } from './scenarios.ts';
import { percentiles, type Percentiles } from './stats.ts';

const BENCH_DIR = resolve(import.meta.dirname, '..');
const PROTO_ROOT = resolve(BENCH_DIR, '../proto');
const PROTO_FILE = join(PROTO_ROOT, 'cache/v1/cache.proto');
const SLACK_MS = 30_000;

export function toolBinDir(): string {
  return join(process.env.CACHEPLANE_CACHE ?? join(homedir(), '.cache/cacheplane'), 'bin');
}

export function toolPath(name: 'ghz' | 'vegeta'): string {
  const path = join(toolBinDir(), name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run bash scripts/provision-bench.sh`);
  return path;
}

/** What a load tool saw in its measured window. */
export interface ToolResult {
  /** Calls completed in the measured window. */
  ops: number;
  /** Length of the measured window. */
  seconds: number;
  latencyMs: Percentiles;
  errors: number;
  firstError?: string;
  /** Calls completed over the whole run, warm-up included (the denominator of CPU per call). */
  totalOps: number;
  /** Free text for the report (e.g. the client's own CPU). */
  detail?: string;
  /** The measured latencies (ms), when the tool gives every one: lets two runs be merged. */
  samples?: Float64Array;
}

// ---------------------------------------------------------------------------------------------
// Work files: what each tool replays

const restPath = (key: string): string => `/api/v1/cache/${NAMESPACE}/${encodeURIComponent(key)}`;
const BATCH_PATH = `/api/v1/cache/${NAMESPACE}/batch/get`;

function setBody(key: string, valueSize: number): string {
  return JSON.stringify({ value: valueFor(key, valueSize).toString('latin1'), ttlSeconds: TTL_SECONDS });
}

/** A REST call of a workload: method, path, body. 90/10 mixes put a SET after every 9 GETs. */
interface RestCall {
  method: 'GET' | 'PUT' | 'POST';
  path: string;
  body?: string;
}

function restCalls(w: Workload): RestCall[] {
  const choice = { keySet: w.keySet, distribution: w.distribution, valueSize: w.valueSize };
  if (w.op === 'batch') {
    return batchSequence(choice, w.batchSize ?? 1).map((keys) => ({
      method: 'POST',
      path: BATCH_PATH,
      body: JSON.stringify({ keys }),
    }));
  }
  return keySequence(choice).map((key, index) =>
    w.op === 'mix' && index % 10 === 9
      ? { method: 'PUT', path: restPath(key), body: setBody(key, w.valueSize) }
      : { method: 'GET', path: restPath(key) },
  );
}

export class WorkFiles {
  readonly #dir: string;
  readonly #made = new Map<string, string>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  #file(name: string, content: () => string): string {
    let path = this.#made.get(name);
    if (path === undefined) {
      path = workFile(this.#dir, name, content);
      this.#made.set(name, path);
    }
    return path;
  }

  /** wrk: one "METHOD<TAB>PATH[<TAB>BODY]" line per call. */
  wrk(w: Workload, name: string): string {
    return this.#file(`${name}.wrk.tsv`, () =>
      restCalls(w)
        .map((call) => [call.method, call.path, ...(call.body === undefined ? [] : [call.body])].join('\t'))
        .join('\n'),
    );
  }

  /** vegeta: one JSON target per line. */
  vegeta(w: Workload, name: string, baseUrl: string, token: string): string {
    return this.#file(`${name}.vegeta.jsonl`, () =>
      restCalls(w)
        .map((call) =>
          JSON.stringify({
            method: call.method,
            url: `${baseUrl}${call.path}`,
            header: {
              Authorization: [`Bearer ${token}`],
              ...(call.body === undefined ? {} : { 'Content-Type': ['application/json'] }),
            },
            ...(call.body === undefined ? {} : { body: Buffer.from(call.body).toString('base64') }),
          }),
        )
        .join('\n'),
    );
  }

  /** ghz: a JSON array of request messages, replayed in order; for mixes, the Get and the Set files. */
  ghz(w: Workload, name: string): { get: string; set?: string } {
    const choice = { keySet: w.keySet, distribution: w.distribution, valueSize: w.valueSize };
    if (w.op === 'batch') {
      return {
        get: this.#file(`${name}.ghz.json`, () =>
          JSON.stringify(
            batchSequence(choice, w.batchSize ?? 1).map((keys) => ({ namespace: NAMESPACE, keys })),
          ),
        ),
      };
    }
    const keys = keySequence(choice);
    const get = this.#file(`${name}.ghz.json`, () =>
      JSON.stringify(keys.map((key) => ({ namespace: NAMESPACE, key }))),
    );
    if (w.op !== 'mix') return { get };
    const set = this.#file(`${name}.ghz-set.json`, () =>
      JSON.stringify(
        keys
          .filter((_, index) => index % 10 === 9)
          .map((key) => ({
            namespace: NAMESPACE,
            key,
            value: valueFor(key, w.valueSize).toString('base64'),
            ttlSeconds: TTL_SECONDS,
          })),
      ),
    );
    return { get, set };
  }

  /** ioredis-load: a JSON array of batches of Redis keys. */
  ioredis(w: Workload, name: string): string {
    const choice = { keySet: w.keySet, distribution: w.distribution, valueSize: w.valueSize };
    return this.#file(`${name}.ioredis.json`, () =>
      JSON.stringify(
        (w.batchSize ?? 1) > 1
          ? batchSequence(choice, w.batchSize ?? 1).map((keys) => keys.map(storageKeyOf))
          : keySequence(choice, SEQUENCE_LENGTH).map((key) => [storageKeyOf(key)]),
      ),
    );
  }

  path(name: string): string {
    return join(this.#dir, name);
  }
}

// ---------------------------------------------------------------------------------------------
// ghz

export interface GhzOptions {
  address: string;
  call: 'Get' | 'Set' | 'BatchGet';
  dataFile: string;
  token: string;
  /** Closed loop: calls in flight. Open loop: workers handing out the paced calls. */
  concurrency: number;
  warmupS: number;
  measureS: number;
  /** Open loop: calls per second, each sent on schedule whatever is still in flight (--async). */
  rps?: number;
  outFile: string;
}

interface GhzReport {
  count: number;
  details: Array<{ timestamp: string; latency: number; error: string; status: string }> | null;
}

export async function runGhz(options: GhzOptions): Promise<ToolResult> {
  const connections = Math.max(1, Math.min(4, Math.floor(options.concurrency / 64)));
  const totalS = options.warmupS + options.measureS;
  const args = [
    '--insecure',
    '--proto',
    PROTO_FILE,
    '--import-paths',
    PROTO_ROOT,
    '--call',
    `cache.v1.CacheService/${options.call}`,
    '--data-file',
    options.dataFile,
    '--metadata',
    JSON.stringify(options.token === '' ? {} : { authorization: `Bearer ${options.token}` }),
    '--concurrency',
    String(options.concurrency),
    '--connections',
    String(connections),
    '--duration',
    `${totalS}s`,
    '--duration-stop',
    'ignore',
    '--timeout',
    '5s',
    '--disable-template-functions',
    '--disable-template-data',
    '--max-recv-message-size',
    '64MB',
    ...(options.rps === undefined ? [] : ['--rps', String(Math.round(options.rps)), '--async']),
    '--format',
    'json',
    '--output',
    options.outFile,
    options.address,
  ];
  await run(toolPath('ghz'), args, {}, totalS * 1000 + SLACK_MS);
  const report = JSON.parse(readFileSync(options.outFile, 'utf8')) as GhzReport;
  rmSync(options.outFile, { force: true });
  const details = report.details ?? [];
  const times = details.map((detail) => Date.parse(detail.timestamp));
  const first = times.reduce((min, time) => Math.min(min, time), Infinity);
  const windowStart = first + options.warmupS * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let last = windowStart;
  details.forEach((detail, index) => {
    const at = times[index] as number;
    if (at < windowStart) return;
    last = Math.max(last, at + detail.latency / 1e6);
    latencies.push(detail.latency / 1e6);
    if (detail.status !== 'OK') {
      errors += 1;
      firstError ??= `${detail.status}: ${detail.error}`;
    }
  });
  const samples = Float64Array.from(latencies);
  return {
    ops: latencies.length,
    seconds: Math.max(0.001, (last - windowStart) / 1000),
    latencyMs: percentiles(samples),
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    totalOps: report.count,
    samples,
  };
}

/** Two runs side by side (a GET run and a SET run at once) as one. */
export function mergeResults(a: ToolResult, b: ToolResult): ToolResult {
  const samples = new Float64Array((a.samples?.length ?? 0) + (b.samples?.length ?? 0));
  samples.set(a.samples ?? new Float64Array(0));
  samples.set(b.samples ?? new Float64Array(0), a.samples?.length ?? 0);
  const firstError = a.firstError ?? b.firstError;
  return {
    ops: a.ops + b.ops,
    seconds: Math.max(a.seconds, b.seconds),
    latencyMs: percentiles(samples),
    errors: a.errors + b.errors,
    ...(firstError === undefined ? {} : { firstError }),
    totalOps: a.totalOps + b.totalOps,
    detail: `${((a.ops / (a.ops + b.ops)) * 100).toFixed(0)}% GET`,
    samples,
  };
}

// ---------------------------------------------------------------------------------------------
// wrk

const WRK_SCRIPT = resolve(BENCH_DIR, 'suite.lua');

export interface WrkOptions {
  baseUrl: string;
  requestsFile: string;
  token: string;
  connections: number;
  seconds: number;
  /** 404 for reads of keys never written: those are then the correct answers. */
  expectStatus: 200 | 404;
}

interface WrkDone {
  requests: number;
  durationUs: number;
  status: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export async function runWrk(options: WrkOptions): Promise<ToolResult> {
  const args = [
    '-t1',
    `-c${options.connections}`,
    `-d${Math.max(1, Math.round(options.seconds))}s`, // whole seconds only
    '--timeout',
    '5s',
    '-s',
    WRK_SCRIPT,
    options.baseUrl,
  ];
  const env = { BENCH_TOKEN: options.token, BENCH_REQUESTS: options.requestsFile };
  const output = await run('wrk', args, env, options.seconds * 1000 + SLACK_MS);
  const line = output.split('\n').find((text) => text.startsWith('{"requests"'));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${output}`);
  const done = JSON.parse(line) as WrkDone;
  const socketErrors = done.connect + done.read + done.write + done.timeout;
  const badStatus = options.expectStatus === 200 ? done.status : done.requests - done.status;
  const errors = socketErrors + badStatus;
  const ms = (us: number): number => us / 1000;
  return {
    ops: done.requests,
    seconds: done.durationUs / 1e6,
    latencyMs: {
      p50: ms(done.p50),
      p90: ms(done.p90),
      p99: ms(done.p99),
      p999: ms(done.p999),
      max: ms(done.max),
    },
    errors,
    ...(errors === 0
      ? {}
      : {
          firstError: `${badStatus} responses without status ${options.expectStatus}, ${socketErrors} socket errors`,
        }),
    totalOps: done.requests,
  };
}

// ---------------------------------------------------------------------------------------------
// vegeta

export interface VegetaOptions {
  targetsFile: string;
  rate: number;
  warmupS: number;
  measureS: number;
  outFile: string;
  /** Checks one response; returns what is wrong with it, or undefined. */
  check: (result: { method: string; url: string; code: number; body: Buffer }) => string | undefined;
}

interface VegetaResult {
  code: number;
  timestamp: string;
  latency: number;
  error: string;
  body: string | null;
  method: string;
  url: string;
}

/** Runs the attack; the results are decoded and checked after the generator's CPU is counted. */
export async function runVegeta(options: VegetaOptions): Promise<() => Promise<ToolResult>> {
  const totalS = options.warmupS + options.measureS;
  const attack = [
    'attack',
    '-targets',
    options.targetsFile,
    '-format',
    'json',
    '-rate',
    `${Math.round(options.rate)}/1s`,
    '-duration',
    `${totalS}s`,
    '-timeout',
    '2s',
    // Bounded, so that a rate the machine cannot serve shows as "fell behind" instead of thousands
    // of connections timing out.
    '-max-workers',
    '256',
    '-output',
    options.outFile,
  ];
  await run(toolPath('vegeta'), attack, {}, totalS * 1000 + SLACK_MS);
  return async () => {
    const encoded = await run(toolPath('vegeta'), ['encode', '-to', 'json', options.outFile], {}, 120_000);
    rmSync(options.outFile, { force: true });
    const results = encoded
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as VegetaResult);
    const times = results.map((result) => Date.parse(result.timestamp));
    const windowStart = times.reduce((min, time) => Math.min(min, time), Infinity) + options.warmupS * 1000;
    const latencies: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    let last = windowStart;
    results.forEach((result, index) => {
      const at = times[index] as number;
      if (at < windowStart) return;
      last = Math.max(last, at + result.latency / 1e6);
      latencies.push(result.latency / 1e6);
      const problem =
        result.error !== ''
          ? result.error
          : options.check({
              method: result.method,
              url: result.url,
              code: result.code,
              body: Buffer.from(result.body ?? '', 'base64'),
            });
      if (problem !== undefined) {
        errors += 1;
        firstError ??= problem;
      }
    });
    return {
      ops: latencies.length,
      seconds: Math.max(0.001, (last - windowStart) / 1000),
      latencyMs: percentiles(Float64Array.from(latencies)),
      errors,
      ...(firstError === undefined ? {} : { firstError }),
      totalOps: results.length,
    };
  };
}

// ---------------------------------------------------------------------------------------------
// redis-benchmark

export interface RedisBenchmarkRow {
  test: 'GET' | 'SET';
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export async function runRedisBenchmark(options: {
  address: string;
  clients: number;
  pipeline: number;
  requests: number;
  valueSize: number;
  cluster: boolean;
}): Promise<RedisBenchmarkRow[]> {
  const [host = '127.0.0.1', port = ''] = options.address.split(':');
  const args = [
    '-h',
    host,
    '-p',
    port,
    '-c',
    String(options.clients),
    '-n',
    String(options.requests),
    '-d',
    String(options.valueSize),
    '-P',
    String(options.pipeline),
    '-r',
    '10000',
    '-t',
    'get,set',
    '--csv',
    ...(options.cluster ? ['--cluster'] : []),
  ];
  const output = await run('redis-benchmark', args, {}, 120_000);
  const rows: RedisBenchmarkRow[] = [];
  for (const line of output.split('\n')) {
    const cells = line.split(',').map((cell) => cell.replace(/"/g, ''));
    const [test, rps, , , p50, , p99] = cells;
    if (test !== 'GET' && test !== 'SET') continue;
    rows.push({ test, rps: Number(rps), p50Ms: Number(p50), p99Ms: Number(p99) });
  }
  if (rows.length === 0) throw new Error(`redis-benchmark printed no results:\n${output}`);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Node children

export async function runIoredis(options: IoredisLoadOptions): Promise<ToolResult & { keys: number }> {
  const output = await run(
    process.execPath,
    [resolve(BENCH_DIR, 'ioredis-load.ts'), JSON.stringify(options)],
    {},
    options.warmupMs + options.durationMs + SLACK_MS,
  );
  const report = JSON.parse(output) as IoredisLoadReport;
  return {
    ops: report.calls,
    keys: report.keys,
    seconds: report.seconds,
    latencyMs: report.latencyMs,
    errors: report.errors,
    ...(report.firstError === undefined ? {} : { firstError: report.firstError }),
    totalOps: report.calls,
    detail: `client CPU ${report.cpuUsPerCall.toFixed(1)} µs/call`,
  };
}

export async function runLocalStore(valueSize: number, durationMs: number): Promise<LocalStoreReport[]> {
  const output = await run(
    process.execPath,
    [resolve(BENCH_DIR, 'local-store-bench.ts'), JSON.stringify({ valueSize, durationMs })],
    {},
    durationMs * 20 + SLACK_MS,
  );
  return JSON.parse(output) as LocalStoreReport[];
}
